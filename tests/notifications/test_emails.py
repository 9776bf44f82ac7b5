"""Team-member emails: payment received, review needed, payout sent, daily summary."""

import smtplib
from datetime import date, datetime, timedelta

import pytest
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from merchants.models import Membership
from notifications.models import Delivery, Event
from notifications.services.emails import send_daily_summaries, update_email_subscription
from notifications.services.sweeper import sweep
from tests import factories

from .helpers import dispatched, record_event

pytestmark = pytest.mark.django_db

YESTERDAY = date(2026, 3, 9)


def at(day: date, hour: int):
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_current_timezone())


def event_on(merchant, day, type, object_id, amount, hour=10, is_live=False):
    Event.objects.create(
        merchant=merchant,
        is_live=is_live,
        type=type,
        object_type="refund" if type.startswith("refund") else "payment",
        object_id=object_id,
        sequence=Event.objects.filter(object_id=object_id).count() + 1,
        payload={"id": object_id, "amount": amount, "currency": "EUR"},
        created_at=at(day, hour),
        dispatched_at=at(day, hour),
    )


def test_a_payment_received_email_names_the_amount_and_links_the_payment(merchant_a, alice, mailoutbox):
    update_email_subscription(alice, merchant_a, False, ["payment_received"])
    event = dispatched(record_event(merchant_a))

    (mail,) = mailoutbox
    assert mail.to == [alice.email]
    assert "33,00 EUR" in mail.subject and mail.subject.startswith("[Test]")
    assert f"/dashboard/payments/{event.object_id}/" in mail.body
    (html, mimetype), *_ = mail.alternatives
    assert mimetype == "text/html" and "33,00 EUR" in html


def test_a_payout_email_goes_to_payout_subscribers(merchant_a, alice, mailoutbox):
    accountant = factories.member(merchant_a, "books@example.org", Membership.Role.ACCOUNTANT)
    update_email_subscription(accountant, merchant_a, False, ["payout_sent"])
    update_email_subscription(alice, merchant_a, False, ["payment_received"])

    dispatched(
        record_event(
            merchant_a,
            type="payout.paid",
            payload={"id": "po_123", "object": "payout", "amount": 125000, "currency": "EUR", "is_live": False},
        )
    )

    (mail,) = mailoutbox
    assert mail.to == ["books@example.org"]
    assert "1250,00 EUR" in mail.subject and "po_123" in mail.body


def test_an_email_that_could_not_be_sent_is_retried(merchant_a, alice, mailoutbox, monkeypatch):
    update_email_subscription(alice, merchant_a, False, ["payment_received"])

    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("gone")

    with monkeypatch.context() as patch:
        patch.setattr(EmailBackend, "send_messages", refuse)
        event = dispatched(record_event(merchant_a))
    delivery = Delivery.objects.get(event=event, kind=Delivery.Kind.EMAIL)
    assert delivery.status == Delivery.Status.PENDING
    assert "gone" in delivery.attempt_log.get().error

    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=5))
    sweep()

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED
    assert len(mailoutbox) == 1


def test_the_daily_summary_is_sent_once_per_day_with_yesterdays_numbers(merchant_a, alice, mailoutbox):
    update_email_subscription(alice, merchant_a, False, ["daily_summary"])
    event_on(merchant_a, YESTERDAY, "payment.paid", "pay_1", 3300)
    event_on(merchant_a, YESTERDAY, "payment.paid", "pay_2", 1000)
    event_on(merchant_a, YESTERDAY, "refund.created", "re_1", 500)
    event_on(merchant_a, YESTERDAY, "payment.failed", "pay_3", 2000)
    event_on(merchant_a, YESTERDAY, "payment.failed", "pay_3", 2000, hour=11)  # the same payment again
    event_on(merchant_a, YESTERDAY + timedelta(days=1), "payment.paid", "pay_today", 9900)
    event_on(merchant_a, YESTERDAY, "payment.paid", "pay_live", 7700, is_live=True)

    assert send_daily_summaries(YESTERDAY) == 1
    assert send_daily_summaries(YESTERDAY) == 0

    (mail,) = mailoutbox
    assert mail.to == [alice.email]
    assert "2 payments received, 43,00 EUR" in mail.body
    assert "1 refund, 5,00 EUR" in mail.body
    assert "1 payment failed" in mail.body
    assert send_daily_summaries(YESTERDAY + timedelta(days=1)) == 1


def test_no_summary_for_members_who_did_not_ask_or_left(merchant_a, alice, mailoutbox):
    former = factories.member(merchant_a, "former@example.org", Membership.Role.SUPPORT)
    update_email_subscription(former, merchant_a, False, ["daily_summary"])
    Membership.objects.filter(user=former).delete()
    update_email_subscription(alice, merchant_a, False, ["payment_received"])

    assert send_daily_summaries(YESTERDAY) == 0
    assert mailoutbox == []
