"""The shopper's receipt email after a payment, in the shopper's language.

A subscriber of the `payment.paid` topic (payments/apps.py). Delivery is at least once, so the
task may run twice for one payment (redelivered message, sweeper): the payment's
`receipt_sent_at` is claimed by compare-and-set before sending, and only the task that claimed it
sends. A failed send releases the claim and retries.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation

from notifications.models import Event
from payments import amounts, display, subscriber_links
from payments.models import Payment

logger = logging.getLogger(__name__)
RETRY_DELAYS = (60, 300, 900, 3600)


# The signed link to the subscriber's own page (payments.checkout.subscriber): in the receipts of a
# subscription's payments, and in every subscription email (payments.subscription_emails, a floor
# above, uses these). Its own salt, so no other signed value opens the page; no expiry.
def receipt_language(payment: Payment) -> str:
    return display.shopper_language(None, (payment.billing or {}).get("language"), payment.shopper_language)


def render_receipt(payment: Payment) -> tuple[str, str, str]:
    """(subject, text, html) in the shopper's language."""
    language = receipt_language(payment)
    merchant = payment.merchant
    with translation.override(language):
        context = {
            "payment": payment,
            "merchant": merchant,
            "merchant_name": merchant.display_name,
            "amount_text": amounts.format_amount(payment.amount, payment.currency, language),
            "paid_at": payment.paid_at or timezone.now(),
            "card": f"{payment.card_brand} •••• {payment.card_last4}" if payment.card_last4 else "",
            "quantity": (payment.metadata or {}).get("quantity") if payment.source == "link" else None,
            "support_email": merchant.support_email,
            "is_test": not payment.is_live,
            "language": language,
            # A subscription's payment: the link to the subscriber's own page (cancel, replace the card).
            "manage_url": subscriber_links.url(payment.subscription_id) if payment.subscription_id else None,
        }
        subject = render_to_string("emails/receipt_subject.txt", context).strip()
        text = render_to_string("emails/receipt_body.txt", context)
        html = render_to_string("emails/receipt_body.html", context)
    return " ".join(subject.split()), text, html


def send_receipt_for(payment_id: int) -> bool:
    """Send the payment's receipt once; True when this call sent it."""
    payment = Payment.objects.select_related("merchant").filter(pk=payment_id).first()
    if payment is None or payment.status != Payment.Status.PAID:
        return False
    email = (payment.billing or {}).get("email")
    if not email or payment.receipt_sent_at:
        return False
    claimed_at = timezone.now()
    if not Payment.objects.filter(pk=payment.pk, receipt_sent_at__isnull=True).update(receipt_sent_at=claimed_at):
        return False  # another delivery of the same event won
    subject, text, html = render_receipt(payment)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [email])
    if payment.merchant.support_email:
        message.reply_to = [payment.merchant.support_email]
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception:
        # Release the claim so that the retry (or a redelivery) sends it.
        Payment.objects.filter(pk=payment.pk, receipt_sent_at=claimed_at).update(receipt_sent_at=None)
        raise
    return True


@shared_task(name="payments.send_receipt", bind=True, acks_late=True, max_retries=len(RETRY_DELAYS))
def send_receipt(self, event_id: int):
    """Subscriber of `payment.paid`: the event names the payment; send its receipt once."""
    event = Event.objects.filter(pk=event_id).first()
    if event is None or event.object_type != "payment":
        return False
    payment_id = Payment.objects.filter(public_id=event.object_id).values_list("pk", flat=True).first()
    if payment_id is None:
        return False
    try:
        return send_receipt_for(payment_id)
    except OSError as exc:  # SMTP unreachable or refused: try again later
        logger.warning("receipt of %s not sent: %s", event.object_id, exc)
        raise self.retry(exc=exc, countdown=RETRY_DELAYS[min(self.request.retries, len(RETRY_DELAYS) - 1)]) from exc
