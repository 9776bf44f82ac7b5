"""The shopper's receipt email: localized, after `payment.paid`, exactly once."""

import pytest
from django.core import mail

from merchants.models import Merchant
from notifications.models import Event
from notifications.registry import subscribers
from payments import receipts
from payments.models import Payment

from .helpers import create_payment, pay

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"


def receipts_sent():
    return [message for message in mail.outbox if "receipt" in message.subject.lower() or "reçu" in message.subject]


def test_the_receipt_task_subscribes_to_payment_paid():
    assert "payments.send_receipt" in subscribers("payment.paid")


def test_a_paid_payment_sends_one_localized_receipt(api, merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(support_email="help@alice.example")
    payment = create_payment(api, description="Commande 42")  # billing language: fr

    pay(payment)

    (message,) = [m for m in mail.outbox if m.to == ["jeanne@example.org"]]
    assert message.subject == "[TEST] Votre reçu de Alice Shop"
    assert "33,00\u00a0€" in message.body
    assert "Commande 42" in message.body
    assert "Visa •••• 4242" in message.body
    assert payment["id"] in message.body
    assert message.reply_to == ["help@alice.example"]
    html, mime = message.alternatives[0]
    assert mime == "text/html" and '<html lang="fr">' in html
    assert Payment.objects.get(public_id=payment["id"]).receipt_sent_at is not None


def test_the_receipt_is_in_english_when_the_billing_language_is(api):
    payment = create_payment(
        api, billing={"first_name": "J", "last_name": "M", "email": "j@example.org", "language": "en"}
    )

    pay(payment)

    (message,) = [m for m in mail.outbox if m.to == ["j@example.org"]]
    assert message.subject == "[TEST] Your receipt from Alice Shop"
    assert "Thank you for your payment of €33.00 to Alice Shop." in message.body


def test_a_redelivered_event_sends_no_second_receipt(api):
    payment = create_payment(api)
    pay(payment)
    event = Event.objects.get(object_id=payment["id"], type="payment.paid")
    sent = len(mail.outbox)

    assert receipts.send_receipt.apply(args=[event.pk]).result is False
    assert receipts.send_receipt.apply(args=[event.pk]).result is False
    assert len(mail.outbox) == sent


def test_a_failed_send_releases_the_claim_for_the_retry(api, monkeypatch):
    payment = create_payment(api)
    pay(payment)
    row = Payment.objects.get(public_id=payment["id"])
    Payment.objects.filter(pk=row.pk).update(receipt_sent_at=None)

    def refuse(self, *args, **kwargs):
        raise OSError("smtp down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    with pytest.raises(OSError):
        receipts.send_receipt_for(row.pk)
    row.refresh_from_db()
    assert row.receipt_sent_at is None
    monkeypatch.undo()

    assert receipts.send_receipt_for(row.pk) is True


def test_no_receipt_without_an_email_or_before_payment(api):
    payment = create_payment(api)
    row = Payment.objects.get(public_id=payment["id"])

    assert receipts.send_receipt_for(row.pk) is False  # not paid
    Payment.objects.filter(pk=row.pk).update(billing={"first_name": "J"})
    pay(payment)
    assert not [m for m in mail.outbox if "jeanne@example.org" in m.to]


def test_the_receipt_escapes_merchant_and_shopper_text(api, merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(brand_name=SCRIPT)
    payment = create_payment(api, description=SCRIPT, metadata={"x": SCRIPT})

    pay(payment)

    (message,) = [m for m in mail.outbox if m.to == ["jeanne@example.org"]]
    html = message.alternatives[0][0]
    assert SCRIPT not in html
    assert "&lt;script&gt;" in html
    assert SCRIPT in message.body  # plain text is not HTML: shown as written
