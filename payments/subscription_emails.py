"""What the subscriber receives: the email after a declined charge, the warning before the card
expires, and the signed link to their own page (payments.checkout.subscriber).

The subscriber has no account: the page is reached by a link carrying a signature of the
subscription's public id (`manage_url`), in every email about the subscription and in the
receipts of its payments. The link does not expire; canceling the subscription is what ends its
use (the page then only shows it canceled).

The engine (payments.subscriptions) calls `send_declined_email` after the commit of a decline
and `send_reminder_email` before a long period's charge; the beat runs `warn_expiring_cards` daily
(task payments.warn_expiring_subscription_cards; the test clock runs it too). This module sits
below the engine, so it reads the models itself and never imports it: the webhook payload of
`subscription.card_expiring` is built by the function the caller passes (`describe`, the engine's
subscription_object). The link's signature is payments.receipts' (receipts carry the link too).
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from notifications.services.outbox import publish
from payments import amounts, display, representations, subscriber_links
from payments.models import Payment, Subscription, SubscriptionCharge
from payplug import dates

logger = logging.getLogger(__name__)

# Warned when the card stops working before the next charge, or within this many days.
EXPIRY_NOTICE_DAYS = 30
# Open subscriptions whose card may be charged again (an incomplete one has no card yet).
WARNED_STATUSES = (Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE, Subscription.Status.PAUSED)


# --- the subscriber page's link ---------------------------------------------------------------------


def subscription_for_token(token: str) -> tuple[Subscription | None, bool]:
    """(the subscription a link names, whether the link expired); (None, False) when the link is
    tampered with or names no subscription (payments.subscriber_links)."""
    reading = subscriber_links.read(token)
    if reading is None:
        return None, False
    sub = Subscription.objects.select_related("merchant", "card").filter(public_id=reading.public_id).first()
    return sub, reading.expired if sub is not None else False


def manage_url(sub: Subscription) -> str:
    """The absolute link to the subscriber's own page: no account, the signature is the key."""
    return subscriber_links.url(sub.public_id)


# --- words shared by the emails and the subscriber page ---------------------------------------------


def language_of(sub: Subscription, request=None) -> str:
    """The subscriber's language: the billing language, else (on a page) the browser's."""
    return display.shopper_language(request, (sub.billing or {}).get("language"))


def next_charge_date(sub: Subscription) -> date | None:
    """The date of the open charge (scheduled, being charged, or to be retried), if any."""
    charge = sub.charges.filter(status__in=SubscriptionCharge.OPEN).order_by("period").first()
    return charge.date if charge is not None else None


def _today(sub: Subscription, now: datetime) -> date:
    """Today in the subscription's clock (test clock included), in the merchant's time zone."""
    return timezone.localtime(now + sub.clock_offset, dates.zone(sub.merchant.time_zone)).date()


def card_stops_on(card) -> date:
    """The first day the card no longer works: it is valid through the last day of its month."""
    last_day = calendar.monthrange(card.exp_year, card.exp_month)[1]
    return date(card.exp_year, card.exp_month, last_day) + timedelta(days=1)


def expiry_key(card) -> str:
    return f"{card.exp_year:04d}-{card.exp_month:02d}"


def _send(sub: Subscription, template: str, context: dict, language: str) -> bool:
    """Render emails/<template>_{subject,body}.{txt,html} in `language` and send it to the subscriber."""
    email = (sub.billing or {}).get("email")
    if not email:
        return False
    merchant = sub.merchant
    with translation.override(language):
        context = {
            "merchant": merchant,
            "merchant_name": merchant.display_name,
            "amount_text": amounts.format_amount(sub.amount, sub.currency, language),
            "interval_text": display.interval_text(sub.interval, sub.interval_count),
            "description": sub.description,
            "manage_url": manage_url(sub),
            "is_test": not sub.is_live,
            "support_email": merchant.support_email,
            "language": language,
            **context,
        }
        subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
        text = render_to_string(f"emails/{template}_body.txt", context)
        html = render_to_string(f"emails/{template}_body.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [email])
    if merchant.support_email:
        message.reply_to = [merchant.support_email]
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except OSError as exc:  # the subscriber page and the merchant's webhooks still tell
        logger.warning("%s email of subscription %s not sent: %s", template, sub.public_id, exc)
        return False
    return True


# --- a fresh link, asked for from an expired one ------------------------------------------------------


def send_fresh_link(sub: Subscription) -> bool:
    """Email the subscription's own address a new link to the subscriber page (asked for from an
    expired link: the email goes to the address on file, never to one typed on the page)."""
    return _send(sub, "subscription_link", {}, language_of(sub))


# --- after a declined charge ------------------------------------------------------------------------


def send_declined_email(charge_id: int, page_payment_id: int) -> bool:
    """Tell the subscriber a period's charge was declined, with a page to pay it with another card.

    Called after the commit of the decline. False when the subscriber has no email, the page is
    no longer payable (paid or closed meanwhile) or the email could not be sent.
    """
    charge = SubscriptionCharge.objects.select_related("subscription__merchant").get(pk=charge_id)
    page = Payment.objects.get(pk=page_payment_id)
    sub = charge.subscription
    url = representations.hosted_payment_url(page)
    if not url or not page.is_payable:
        return False
    language = language_of(sub)
    context = {
        "url": url,
        "charge_amount_text": amounts.format_amount(charge.amount, sub.currency, language),
        "charge_date": charge.date,
        # Real time; the subscription's clock shows it shifted (test clock).
        "retry_at": charge.next_attempt_at + sub.clock_offset if charge.next_attempt_at else None,
    }
    return _send(sub, "subscription_declined", context, language)


# --- before a long period's charge ---------------------------------------------------------------------


def send_reminder_email(charge_id: int) -> bool:
    """Announce a coming charge (of a yearly subscription, or one every few months): its amount,
    date and card, and the subscriber page to replace the card or cancel before it. The engine
    (payments.subscriptions.remind_upcoming) claims the charge first, so it is sent once."""
    charge = SubscriptionCharge.objects.select_related("subscription__merchant", "subscription__card").get(pk=charge_id)
    sub = charge.subscription
    if not sub.is_open:
        return False
    language = language_of(sub)
    context = {
        "charge_amount_text": amounts.format_amount(charge.amount, sub.currency, language),
        "charge_date": charge.date,
        "card": sub.card if sub.card_id else None,
    }
    return _send(sub, "subscription_reminder", context, language)


# --- before the card expires ------------------------------------------------------------------------


def warn_expiring_cards(
    now=None, *, describe: Callable[[Subscription], dict], subscription: Subscription | None = None
) -> int:
    """Beat task body (daily): warn each open subscription (or only `subscription`: the test clock)
    whose card stops working before its next charge, or within EXPIRY_NOTICE_DAYS of the
    subscription's clock; returns how many were warned.

    Once per card and expiry: `expiry_warned_for` is set to the card's "YYYY-MM" by
    compare-and-set on the locked row, in the transaction that publishes the webhook event
    `subscription.card_expiring` (payload `describe(sub)`), so two runs warn once. The email goes
    after the commit; one that fails is not sent again (the event went out, and a declined
    charge later emails the subscriber a page to pay with another card).
    """
    now = now or timezone.now()
    warned = 0
    candidates = (
        Subscription.objects.filter(status__in=WARNED_STATUSES, card__isnull=False)
        .select_related("merchant", "card")
        .order_by("pk")
    )
    if subscription is not None:
        candidates = candidates.filter(pk=subscription.pk)
    for sub in candidates.iterator(chunk_size=500):
        if sub.expiry_warned_for == expiry_key(sub.card) or not _expires_soon(sub, now):
            continue
        claimed = _claim_warning(sub, describe)
        if claimed is None:
            continue
        warned += 1
        context = {
            "card": claimed.card,
            "expires_on": card_stops_on(claimed.card) - timedelta(days=1),
            "next_date": next_charge_date(claimed),
        }
        _send(claimed, "subscription_card_expiring", context, language_of(claimed))
    return warned


def _expires_soon(sub: Subscription, now: datetime) -> bool:
    today = _today(sub, now)
    horizon = today + timedelta(days=EXPIRY_NOTICE_DAYS)
    next_date = next_charge_date(sub)
    if next_date is not None and next_date > horizon:
        horizon = next_date
    return card_stops_on(sub.card) <= horizon


def _claim_warning(sub: Subscription, describe) -> Subscription | None:
    """Mark the card's expiry as warned about (compare-and-set) and publish the event; the locked
    subscription, or None when another run did it first or the card changed meanwhile."""
    with transaction.atomic():
        locked = (
            Subscription.objects.select_for_update()
            .select_related("merchant", "card")
            .filter(pk=sub.pk, status__in=WARNED_STATUSES, card_id=sub.card_id)
            .first()
        )
        if locked is None or locked.card is None:
            return None
        key = expiry_key(locked.card)
        if locked.expiry_warned_for == key:
            return None
        changed = Subscription.objects.filter(pk=locked.pk, expiry_warned_for=locked.expiry_warned_for).update(
            expiry_warned_for=key
        )
        if changed != 1:
            return None
        locked.expiry_warned_for = key
        publish(
            merchant=locked.merchant,
            is_live=locked.is_live,
            type="subscription.card_expiring",
            object_type="subscription",
            object_id=locked.public_id,
            payload=describe(locked),
        )
    return locked


def card_text(card) -> str:
    """'Visa •••• 4242, expires 12/26' (the subscriber page and the emails show no more of a card)."""
    return gettext("%(brand)s •••• %(last4)s, expires %(month)02d/%(year)02d") % {
        "brand": card.brand,
        "last4": card.last4,
        "month": card.exp_month,
        "year": card.exp_year % 100,
    }
