"""What the subscriber receives (issue 13): the email after a declined charge, the warning before
the card expires (once per card and expiry, with its webhook event), and the subscriber page's
link in the receipts of the subscription's payments."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core import mail

from merchants.models import Merchant
from notifications.models import Event
from payments import subscriber_links, subscription_emails, subscriptions
from payments.models import Card, Payment, Subscription
from payplug import dates
from payplug.celery import app
from tests.payments.helpers import BILLING, create_payment, pay
from tests.payments.installments.helpers import merchant_initiated_outcome, today
from tests.payments.subscriptions.helpers import reload, start

pytestmark = pytest.mark.django_db

EN = {**BILLING, "language": "en"}


def to_subscriber(subject_part: str):
    return [m for m in mail.outbox if m.to == [BILLING["email"]] and subject_part in m.subject]


def manage_link(sub) -> str:
    """The start of every link to `sub`'s subscriber page (the rest is its timestamp and signature)."""
    url = subscription_emails.manage_url(sub)
    assert subscriber_links.read(url.rstrip("/").rsplit("/", 1)[1]).public_id == sub.public_id
    return url.split(sub.public_id, 1)[0] + sub.public_id + ":"


# --- the declined email ---------------------------------------------------------------------------------


def _declined(merchant, monkeypatch, **overrides):
    sub = start(merchant, billing=EN, **overrides)
    with merchant_initiated_outcome(monkeypatch, ["decline"]):
        sub = subscriptions.advance_clock(sub, 32)
    charge = subscriptions.next_charge(sub)
    assert charge.status == "retrying" and charge.page_payment_id
    mail.outbox.clear()
    return reload(sub), charge


def test_the_declined_email_offers_another_card_the_retry_date_and_the_page(merchant_a, monkeypatch):
    Merchant.objects.filter(pk=merchant_a.pk).update(support_email="help@alice.example")
    sub, charge = _declined(merchant_a, monkeypatch)

    assert subscription_emails.send_declined_email(charge.pk, charge.page_payment_id) is True

    (message,) = to_subscriber("declined")
    assert message.subject == "[TEST] Your payment to Alice Shop was declined"
    page_url = f"{settings.PUBLIC_BASE_URL}/pay/{charge.page_payment.hosted_token}/"
    assert page_url in message.body and manage_link(sub) in message.body
    assert "€10.00" in message.body
    retry_day = dates.format_date(charge.next_attempt_at + sub.clock_offset, merchant_a.time_zone)
    assert f"Otherwise we will try your card again on {retry_day}." in message.body
    assert message.reply_to == ["help@alice.example"]
    html, mime = message.alternatives[0]
    assert mime == "text/html" and f'href="{page_url}"' in html and "Pay now with another card" in html
    assert f'href="{manage_link(sub)}' in html and '<html lang="en">' in html


def test_the_declined_email_is_in_the_subscribers_language(merchant_a, monkeypatch):
    sub, charge = _declined(merchant_a, monkeypatch)
    Subscription.objects.filter(pk=sub.pk).update(billing={**EN, "language": "fr"})

    subscription_emails.send_declined_email(charge.pk, charge.page_payment_id)

    (message,) = [m for m in mail.outbox if m.to == [BILLING["email"]]]
    assert "10,00\u00a0€" in message.body
    assert '<html lang="fr">' in message.alternatives[0][0]


def test_no_declined_email_without_an_address_or_for_a_page_no_longer_payable(merchant_a, monkeypatch):
    sub, charge = _declined(merchant_a, monkeypatch)
    Subscription.objects.filter(pk=sub.pk).update(billing={**EN, "email": ""})
    assert subscription_emails.send_declined_email(charge.pk, charge.page_payment_id) is False

    Subscription.objects.filter(pk=sub.pk).update(billing=EN)
    Payment.objects.filter(pk=charge.page_payment_id).update(status=Payment.Status.FAILED)
    assert subscription_emails.send_declined_email(charge.pk, charge.page_payment_id) is False
    assert mail.outbox == []


def test_an_unreachable_mail_server_is_reported_not_raised(merchant_a, monkeypatch):
    _sub, charge = _declined(merchant_a, monkeypatch)

    def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)

    assert subscription_emails.send_declined_email(charge.pk, charge.page_payment_id) is False


# --- the reminder before a yearly charge --------------------------------------------------------------


def test_a_yearly_charge_is_announced_with_the_page_to_cancel_before(merchant_a):
    sub = start(merchant_a, billing=EN, interval="year", description="Adhésion")
    mail.outbox.clear()

    sub = subscriptions.advance_clock(sub, 360)

    charge = subscriptions.next_charge(sub)
    day = dates.format_date(charge.date)
    (message,) = to_subscriber("Your subscription to")
    assert message.subject == f"[TEST] Your subscription to Alice Shop: €10.00 on {day}"
    assert f"€10.00 will be charged on {day}." in message.body
    assert "Visa •••• 4242" in message.body and "Adhésion" in message.body
    assert manage_link(sub) in message.body and f'href="{manage_link(sub)}' in message.alternatives[0][0]


def test_no_reminder_for_a_canceled_subscription(merchant_a):
    sub = start(merchant_a, billing=EN, interval="year")
    charge = subscriptions.next_charge(sub)
    subscriptions.cancel(sub, by="subscriber")
    mail.outbox.clear()

    assert subscription_emails.send_reminder_email(charge.pk) is False
    assert mail.outbox == []


# --- the card-expiry warning ---------------------------------------------------------------------------


def _expiring(merchant, **overrides):
    """A started subscription whose card expires at the end of this month (before its next charge)."""
    sub = start(merchant, billing=EN, **overrides)
    day = today(merchant)
    Card.objects.filter(pk=sub.card_id).update(exp_month=day.month, exp_year=day.year)
    mail.outbox.clear()
    return reload(sub)


def _describe(sub):
    return subscriptions.subscription_object(sub)


def test_a_card_expiring_before_the_next_charge_is_warned_once_across_two_runs(merchant_a):
    sub = _expiring(merchant_a)
    day = today(merchant_a)

    first = subscription_emails.warn_expiring_cards(describe=_describe)
    second = subscription_emails.warn_expiring_cards(describe=_describe)

    assert (first, second) == (1, 0)
    (message,) = to_subscriber("expire")
    assert message.subject == "[TEST] Your card for Alice Shop is about to expire"
    assert "Visa card ending in 4242" in message.body and manage_link(sub) in message.body
    assert f'href="{manage_link(sub)}' in message.alternatives[0][0]
    assert reload(sub).expiry_warned_for == f"{day.year:04d}-{day.month:02d}"
    events = Event.objects.filter(object_id=sub.public_id, type="subscription.card_expiring")
    (event,) = events
    assert event.payload["id"] == sub.public_id and event.payload["card"]["last4"] == "4242"


def test_a_card_that_expires_after_the_next_charge_is_not_warned(merchant_a):
    sub = start(merchant_a, billing=EN)  # 12/34
    mail.outbox.clear()

    assert subscription_emails.warn_expiring_cards(describe=_describe) == 0

    assert to_subscriber("expire") == []
    assert reload(sub).expiry_warned_for == ""
    assert not Event.objects.filter(object_id=sub.public_id, type="subscription.card_expiring").exists()


def test_a_yearly_subscription_is_warned_months_ahead_of_its_charge(merchant_a):
    sub = start(merchant_a, billing=EN, interval="year")
    in_four_months = subscriptions.add_months(today(merchant_a), 4)
    Card.objects.filter(pk=sub.card_id).update(exp_month=in_four_months.month, exp_year=in_four_months.year)

    assert subscription_emails.warn_expiring_cards(describe=_describe) == 1


def test_the_subscriptions_clock_decides_what_expires_soon(merchant_a):
    sub = start(merchant_a, billing=EN, interval="year")
    # It stops working between 13 and 14 months from now: after the next charge (in 12 months).
    later = subscriptions.add_months(today(merchant_a), 13)
    Card.objects.filter(pk=sub.card_id).update(exp_month=later.month, exp_year=later.year)
    assert subscription_emails.warn_expiring_cards(describe=_describe) == 0

    # 420 days on, in the subscription's clock: within the next 30 days.
    Subscription.objects.filter(pk=sub.pk).update(clock_offset=timedelta(days=420))

    assert subscription_emails.warn_expiring_cards(describe=_describe) == 1


def test_a_new_card_is_warned_again_and_a_canceled_subscription_never(merchant_a, merchant_b):
    sub = _expiring(merchant_a)
    Subscription.objects.filter(pk=sub.pk).update(expiry_warned_for="2020-01")
    canceled = _expiring(merchant_b)
    subscriptions.cancel(canceled, by="subscriber")

    assert subscription_emails.warn_expiring_cards(describe=_describe) == 1

    assert reload(canceled).expiry_warned_for == ""


def test_the_beat_runs_the_warning_daily():
    assert "payments.warn_expiring_subscription_cards" in app.tasks
    (entry,) = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "payments.warn_expiring_subscription_cards"
    ]
    assert entry["schedule"] == 86400.0


def test_the_beat_task_warns_with_the_subscription_object(merchant_a):
    sub = _expiring(merchant_a)

    result = app.tasks["payments.warn_expiring_subscription_cards"].apply()
    # Its result, without EagerResult.get (refused once a worker ran in this process).
    assert result.successful() and result.result == 1

    (event,) = Event.objects.filter(object_id=sub.public_id, type="subscription.card_expiring")
    assert event.payload == subscriptions.subscription_object(reload(sub))


def test_the_card_stops_working_after_the_last_day_of_its_month():
    card = Card(exp_month=2, exp_year=2028)

    assert subscription_emails.card_stops_on(card) == date(2028, 3, 1)
    assert subscription_emails.expiry_key(card) == "2028-02"


# --- the receipt -----------------------------------------------------------------------------------------


def test_a_subscription_payments_receipt_links_to_the_subscriber_page(merchant_a):
    mail.outbox.clear()
    sub = start(merchant_a, billing=EN)

    (receipt,) = to_subscriber("receipt")

    assert f"Manage your subscription: {manage_link(sub)}" in receipt.body
    assert f'href="{manage_link(sub)}' in receipt.alternatives[0][0]


def test_other_receipts_have_no_such_line(api):
    mail.outbox.clear()
    pay(create_payment(api, billing=EN))

    (receipt,) = to_subscriber("receipt")

    assert "Manage your subscription" not in receipt.body
    assert not re.search(r"/pay/subscription/", receipt.alternatives[0][0])
