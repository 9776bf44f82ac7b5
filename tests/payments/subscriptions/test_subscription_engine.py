"""Subscriptions played out with the test clock (issue 13 items 2, 5 and 6): the first payment on
the hosted page, the later periods merchant-initiated on the saved card, retries after declines,
pause, resume, cancel, the end, card checks for a future start or a new card."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection

from notifications.models import Event
from payments import recurring, subscriptions
from payments.acquirers.sandbox import SandboxAcquirer
from payments.errors import PaymentError
from payments.models import Payment, PaymentAttempt, Subscription, SubscriptionCharge
from payments.subscriptions import add_months, period_date
from tests.payments.helpers import race
from tests.payments.installments.helpers import merchant_initiated_outcome, today

from .helpers import create, page, pay_page, reload, start

Status = Subscription.Status


def _events(sub):
    return list(Event.objects.filter(object_id=sub.public_id).order_by("pk").values_list("type", flat=True))


def _paid_periods(sub):
    return list(
        SubscriptionCharge.objects.filter(subscription=sub, status="paid")
        .order_by("period")
        .values_list("period", flat=True)
    )


def _spy(monkeypatch):
    real = SandboxAcquirer.authorize
    seen = []

    def authorize(self, **kwargs):
        seen.append(kwargs["shopper_present"])
        return real(self, **kwargs)

    monkeypatch.setattr(SandboxAcquirer, "authorize", authorize)
    return seen


def test_a_monthly_gift_plays_out_with_the_test_clock(merchant_a, monkeypatch):
    seen = _spy(monkeypatch)
    sub = create(merchant_a)
    assert sub.public_id.startswith("sub_") and sub.status == Status.INCOMPLETE
    assert sub.start_date == today(merchant_a)
    first = Payment.objects.get(subscription=sub)
    assert first.subscription_period == 1 and first.save_card is True and first.amount == 1000

    pay_page(page(sub))
    sub = reload(sub)
    first.refresh_from_db()
    assert sub.status == Status.ACTIVE and first.card_id is not None and sub.card_id == first.card_id
    assert first.force_3ds is True and first.is_3ds is True  # the consent, strongly authenticated
    assert sub.paid_charges == 1 and sub.activated_at is not None
    nxt = subscriptions.next_charge(sub)
    assert nxt.period == 2 and nxt.date == add_months(sub.start_date, 1)

    sub = subscriptions.advance_clock(sub, 27)
    assert _paid_periods(sub) == [1]
    sub = subscriptions.advance_clock(sub, 5)
    assert _paid_periods(sub) == [1, 2]
    assert seen == [True, False]  # the second: merchant-initiated, no shopper
    second = Payment.objects.get(subscription=sub, subscription_period=2)
    assert second.initiator == "MERCHANT" and second.status == Payment.Status.PAID
    assert second.notification_url == "https://asso.example.org/ipn" and second.metadata == {"member": "42"}
    assert subscriptions.next_charge(sub).date == add_months(sub.start_date, 2)

    body = subscriptions.subscription_object(sub)
    assert body["object"] == "subscription" and body["status"] == "active" and body["paid_charges"] == 2
    assert body["payment_ids"] == [first.public_id, second.public_id]
    assert body["card"]["last4"] == "4242" and body["next_charge_date"] == add_months(sub.start_date, 2).isoformat()
    assert body["consent"]["text"] and body["hosted_payment"]["payment_url"] is None
    assert _events(sub) == [
        "subscription.created",
        "subscription.activated",
        "subscription.payment_succeeded",
        "subscription.payment_succeeded",
    ]


def test_a_year_on_the_clock_charges_every_month_once(merchant_a):
    sub = start(merchant_a)
    sub = subscriptions.advance_clock(sub, 366)
    assert _paid_periods(sub) == list(range(1, 14))
    assert Payment.objects.filter(subscription=sub, status=Payment.Status.PAID).count() == 13
    sub = subscriptions.advance_clock(sub, 1)
    assert len(_paid_periods(sub)) == 13


def test_a_number_of_charges_ends_the_subscription(merchant_a):
    sub = start(merchant_a, max_charges=2)
    sub = subscriptions.advance_clock(sub, 40)
    assert sub.status == Status.ENDED and sub.ended_at is not None and _paid_periods(sub) == [1, 2]
    assert subscriptions.next_charge(sub) is None
    sub = subscriptions.advance_clock(sub, 60)
    assert Payment.objects.filter(subscription=sub).count() == 2
    ipns = Event.objects.filter(object_id=sub.public_id, ipn_url="https://asso.example.org/ipn")
    assert list(ipns.values_list("type", flat=True)) == ["subscription.ended"]


def test_an_end_date_ends_it_after_the_last_period_before_it(merchant_a):
    day = today(merchant_a)
    sub = start(merchant_a, interval="year", end_date=day + timedelta(days=400))
    sub = subscriptions.advance_clock(sub, 366)
    assert _paid_periods(sub) == [1, 2] and sub.status == Status.ENDED


def test_a_declined_charge_is_retried_then_the_subscription_is_canceled(merchant_a, monkeypatch):
    sub = start(merchant_a)
    with merchant_initiated_outcome(monkeypatch, ["decline"]) as calls:
        sub = subscriptions.advance_clock(sub, 31)
        charge = subscriptions.next_charge(sub)
        assert sub.status == Status.PAST_DUE and charge.status == "retrying" and charge.attempts == 1
        assert sub.failure_code == "card_declined"
        page_payment = charge.page_payment
        assert page_payment.hosted_token and page_payment.status == Payment.Status.CREATED
        assert page_payment.save_card is True and page_payment.subscription_period == 2
        for days, attempts in ((1, 2), (2, 3)):
            sub = subscriptions.advance_clock(sub, days)
            assert subscriptions.next_charge(sub).attempts == attempts and sub.status == Status.PAST_DUE
        sub = subscriptions.advance_clock(sub, 4)
    assert len(calls) == 4
    assert sub.status == Status.CANCELED and sub.canceled_by == "payment_failed"
    assert SubscriptionCharge.objects.get(subscription=sub, period=2).status == "failed"
    assert subscriptions.next_charge(sub) is None
    assert Payment.objects.get(pk=page_payment.pk).status == Payment.Status.FAILED  # its page closed
    assert _events(sub).count("subscription.payment_failed") == 4
    assert _events(sub)[-2:] == ["subscription.canceled", "subscription.payment_failed"] or _events(sub)[-1] in (
        "subscription.canceled",
        "subscription.payment_failed",
    )
    sub = subscriptions.advance_clock(sub, 60)
    assert Payment.objects.filter(subscription=sub, initiator="MERCHANT").count() == 4


def test_a_retry_that_goes_through_makes_it_active_again(merchant_a, monkeypatch):
    sub = start(merchant_a)
    with merchant_initiated_outcome(monkeypatch, ["decline", "ok"]):
        sub = subscriptions.advance_clock(sub, 31)
        assert sub.status == Status.PAST_DUE
        sub = subscriptions.advance_clock(sub, 1)
    assert sub.status == Status.ACTIVE and sub.failure_code is None and _paid_periods(sub) == [1, 2]
    assert subscriptions.next_charge(sub).period == 3


def test_the_emailed_page_pays_the_period_with_another_card(merchant_a, monkeypatch):
    sub = start(merchant_a)
    old_card = sub.card_id
    with merchant_initiated_outcome(monkeypatch, ["decline"]):
        sub = subscriptions.advance_clock(sub, 31)
    page_payment = subscriptions.next_charge(sub).page_payment
    pay_page(
        {"hosted_payment": {"payment_url": subscriptions.representations.hosted_payment_url(page_payment)}},
        number="5555 5555 5555 4444",
    )
    sub = reload(sub)
    assert sub.status == Status.ACTIVE and _paid_periods(sub) == [1, 2]
    assert sub.card_id != old_card and sub.card.last4 == "4444"


def test_pause_skips_the_periods_and_resume_goes_on_from_the_next_date(merchant_a):
    sub = start(merchant_a)
    sub = subscriptions.pause(sub, by="api")
    assert sub.status == Status.PAUSED and sub.paused_at is not None
    assert subscriptions.pause(sub, by="api").status == Status.PAUSED  # a repeated call changes nothing
    sub = subscriptions.advance_clock(sub, 70)
    assert _paid_periods(sub) == [1]
    sub = subscriptions.resume(sub, by="api")
    assert sub.status == Status.ACTIVE
    charge = subscriptions.next_charge(sub)
    clock_today = recurring.today(merchant_a, sub.clock_offset)
    # Periods 2 and 3 fell while paused: skipped, never charged; the next charge is period 4's.
    assert charge.period == 4 and charge.date >= clock_today and charge.date == period_date(sub, 4)
    sub = subscriptions.advance_clock(sub, 31)
    assert _paid_periods(sub) == [1, 4]
    assert subscriptions.next_charge(sub).period == 5
    assert "subscription.paused" in _events(sub) and "subscription.resumed" in _events(sub)


def test_cancel_stops_everything_and_is_final(merchant_a):
    sub = start(merchant_a)
    sub = subscriptions.cancel(sub, by="subscriber")
    assert sub.status == Status.CANCELED and sub.canceled_by == "subscriber" and sub.canceled_at is not None
    assert subscriptions.next_charge(sub) is None
    assert subscriptions.cancel(sub, by="api").canceled_by == "subscriber"  # unchanged
    sub = subscriptions.advance_clock(sub, 100)
    assert Payment.objects.filter(subscription=sub).count() == 1
    for action in (subscriptions.pause, subscriptions.resume):
        with pytest.raises(PaymentError):
            action(sub, by="api")
    ipns = Event.objects.filter(object_id=sub.public_id, ipn_url="https://asso.example.org/ipn")
    assert list(ipns.values_list("type", flat=True)) == ["subscription.canceled"]


def test_canceling_before_the_first_payment_closes_its_page(merchant_a):
    sub = create(merchant_a)
    first = Payment.objects.get(subscription=sub)
    sub = subscriptions.cancel(sub, by="merchant")
    assert Payment.objects.get(pk=first.pk).status == Payment.Status.FAILED
    assert subscriptions.hosted_url(sub) is None


def test_a_first_page_that_expires_cancels_it(merchant_a):
    sub = create(merchant_a)
    first = Payment.objects.get(subscription=sub)
    Payment.objects.filter(pk=first.pk).update(expires_at="2000-01-01T00:00:00Z")
    subscriptions.services.expire_due()
    sub = reload(sub)
    assert sub.status == Status.CANCELED and sub.canceled_by == "first_payment"


def test_a_later_start_checks_the_card_and_charges_on_the_start_date(merchant_a, monkeypatch):
    seen = _spy(monkeypatch)
    start_day = today(merchant_a) + timedelta(days=10)
    sub = create(merchant_a, start_date=start_day, interval="year")
    check = Payment.objects.get(subscription=sub)
    assert check.subscription_period is None and check.is_deferred is True
    pay_page(page(sub))
    sub = reload(sub)
    check.refresh_from_db()
    assert sub.status == Status.ACTIVE and sub.card_id is not None and sub.paid_charges == 0
    # Nothing charged: the authorisation was voided.
    assert check.status == Payment.Status.FAILED and check.failure_code == "aborted"
    assert PaymentAttempt.objects.get(payment=check).status == "voided"
    sub = subscriptions.advance_clock(sub, 9)
    assert _paid_periods(sub) == []
    sub = subscriptions.advance_clock(sub, 1)
    assert _paid_periods(sub) == [1] and seen == [True, False]
    assert subscriptions.next_charge(sub).date == add_months(start_day, 12)


def test_a_new_card_replaces_the_old_one_and_retries_a_declined_charge_at_once(merchant_a, monkeypatch):
    sub = start(merchant_a)
    with merchant_initiated_outcome(monkeypatch, ["decline", "ok"]):
        sub = subscriptions.advance_clock(sub, 31)
    assert sub.status == Status.PAST_DUE
    check = subscriptions.replace_card_payment(sub, return_url="https://asso.example.org/me")
    assert check.is_deferred and check.subscription_period is None and check.return_url == "https://asso.example.org/me"
    pay_page(
        {"hosted_payment": {"payment_url": subscriptions.representations.hosted_payment_url(check)}},
        number="5555 5555 5555 4444",
    )
    sub = reload(sub)
    assert sub.card.last4 == "4444"
    assert subscriptions.next_charge(sub).next_attempt_at <= subscriptions.timezone.now()
    subscriptions.charge_due()
    sub = reload(sub)
    assert sub.status == Status.ACTIVE and _paid_periods(sub) == [1, 2]
    assert "subscription.card_updated" in _events(sub)


def test_the_scheduler_claims_a_period_once(merchant_a):
    sub = start(merchant_a)
    charge = subscriptions.next_charge(sub)
    SubscriptionCharge.objects.filter(pk=charge.pk).update(next_attempt_at="2000-01-01T00:00:00Z")
    now = subscriptions.timezone.now()
    assert recurring._claim(subscriptions.KIND, charge.pk, sub.pk, now) is not None
    assert recurring._claim(subscriptions.KIND, charge.pk, sub.pk, now) is None
    subscriptions.charge_due(now + recurring.STALLED_CHARGE + timedelta(seconds=1))
    subscriptions.charge_due(now + recurring.STALLED_CHARGE + timedelta(seconds=2))
    assert Payment.objects.filter(subscription=sub, subscription_period=2).count() == 1
    assert _paid_periods(sub) == [1, 2]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": 50}, "amount"),
        ({"amount": "10"}, "amount"),
        ({"interval": "week"}, "interval"),
        ({"interval_count": 13}, "interval_count"),
        ({"interval": "year", "interval_count": 4}, "interval_count"),
        ({"billing": {"first_name": "A"}}, "billing.email"),
        ({"start_date": date(2000, 1, 1)}, "start_date"),
        ({"max_charges": 0}, "max_charges"),
        ({"currency": "USD"}, "currency"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(merchant_a, overrides, field):
    with pytest.raises(PaymentError) as caught:
        create(merchant_a, **overrides)
    assert caught.value.code == "invalid_request" and field in caught.value.details
    assert not Subscription.objects.exists() and not Payment.objects.exists()


def test_an_end_date_before_the_start_and_both_limits_are_refused(merchant_a):
    day = today(merchant_a)
    for overrides in ({"end_date": day}, {"end_date": day + timedelta(days=90), "max_charges": 3}):
        with pytest.raises(PaymentError) as caught:
            create(merchant_a, **overrides)
        assert "end_date" in caught.value.details


def test_the_test_clock_is_for_test_mode_only(merchant_a):
    sub = start(merchant_a)
    Subscription.objects.filter(pk=sub.pk).update(is_live=True)
    with pytest.raises(PaymentError) as caught:
        subscriptions.advance_clock(reload(sub), 5)
    assert caught.value.status_code == 403


def test_period_dates_keep_the_day_and_clamp_to_the_month_end():
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2027, 1, 31), 2) == date(2027, 3, 31)
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert add_months(date(2026, 12, 4), 1) == date(2027, 1, 4)


def test_monthly_amount_for_the_recurring_revenue():
    assert Subscription(amount=1200, interval="year", interval_count=1).monthly_amount() == 100
    assert Subscription(amount=1000, interval="month", interval_count=2).monthly_amount() == 500


def test_each_decline_emails_the_subscriber_a_page_to_pay_with_another_card(merchant_a, monkeypatch, mailoutbox):
    sub = start(merchant_a)
    mailoutbox.clear()
    with merchant_initiated_outcome(monkeypatch, ["decline"]):
        sub = subscriptions.advance_clock(sub, 31)
        page_url = subscriptions.representations.hosted_payment_url(subscriptions.next_charge(sub).page_payment)
        assert [m.to for m in mailoutbox] == [["jeanne@example.org"]]
        assert page_url in mailoutbox[0].body
        sub = subscriptions.advance_clock(sub, 1)
    assert len(mailoutbox) == 2  # the second decline: a new page, a new email


@pytest.mark.mysql
def test_concurrent_runners_charge_each_period_once_on_mysql(merchant_a):
    assert connection.vendor == "mysql"
    subs = [start(merchant_a) for _ in range(5)]
    SubscriptionCharge.objects.filter(subscription__in=subs, period=2).update(next_attempt_at="2000-01-01T00:00:00Z")

    results, errors = race(4, lambda i: subscriptions.charge_due())

    assert errors == [None] * 4, errors
    assert sum(results) == 5
    for sub in subs:
        assert Payment.objects.filter(subscription=sub, subscription_period=2).count() == 1
        assert PaymentAttempt.objects.filter(payment__subscription=sub, payment__subscription_period=2).count() == 1
        assert _paid_periods(sub) == [1, 2]


def test_a_lost_acquirer_answer_is_reconciled_and_charges_the_period_once(merchant_a, monkeypatch):
    sub = start(merchant_a)
    with merchant_initiated_outcome(monkeypatch, ["unknown"]):
        sub = subscriptions.advance_clock(sub, 31)
        charge = Payment.objects.get(subscription=sub, subscription_period=2)
        assert charge.status == Payment.Status.PENDING
        assert subscriptions.next_charge(sub).status == "charging"
        subscriptions.advance_clock(sub, 5)  # never charged again while the answer is unknown
        assert Payment.objects.filter(subscription=sub, subscription_period=2).count() == 1

    PaymentAttempt.objects.filter(payment=charge).update(updated_at="2000-01-01T00:00:00Z")
    subscriptions.services.reconcile_pending()
    sub = reload(sub)
    assert _paid_periods(sub) == [1, 2] and sub.paid_charges == 2
    assert PaymentAttempt.objects.filter(payment__subscription=sub, payment__subscription_period=2).count() == 1


def test_a_deleted_card_is_a_decline_and_the_subscriber_gets_a_page(merchant_a, mailoutbox):
    sub = start(merchant_a)
    subscriptions.services.delete_card(sub.card)
    mailoutbox.clear()
    sub = subscriptions.advance_clock(sub, 31)
    charge = subscriptions.next_charge(sub)
    assert sub.status == Status.PAST_DUE and charge.status == "retrying" and charge.attempts == 1
    assert not PaymentAttempt.objects.filter(payment__subscription=sub, payment__subscription_period=2).exists()
    assert len(mailoutbox) == 1


def test_a_page_of_objects_is_read_in_a_few_queries_whatever_its_size(merchant_a, django_assert_max_num_queries):
    subs = [start(merchant_a) for _ in range(3)] + [create(merchant_a) for _ in range(3)]
    subs = list(Subscription.objects.filter(pk__in=[s.pk for s in subs]).order_by("pk"))
    with django_assert_max_num_queries(4):
        objects = subscriptions.subscription_objects(subs)
    assert [o["id"] for o in objects] == [s.public_id for s in subs]
    assert [o == subscriptions.subscription_object(s) for o, s in zip(objects, subs, strict=True)] == [True] * 6
    assert [o["hosted_payment"]["payment_url"] is None for o in objects] == [True] * 3 + [False] * 3


def test_a_yearly_charge_is_announced_a_week_before_once(merchant_a, mailoutbox):
    sub = start(merchant_a, interval="year")
    monthly = start(merchant_a)
    mailoutbox.clear()
    sub = subscriptions.advance_clock(sub, 350)  # 15 days before
    subscriptions.advance_clock(monthly, 25)  # a monthly charge is not announced
    assert mailoutbox == []
    sub = subscriptions.advance_clock(sub, 10)  # 5 days before: the clock sends what the beat would
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["jeanne@example.org"]
    assert subscriptions.remind_upcoming() == 0 and subscriptions.remind_upcoming(subscriptions.timezone.now()) == 0
    assert len(mailoutbox) == 1
    assert subscriptions.next_charge(sub).reminded_at is not None


def test_the_last_charge_paid_on_its_page_while_paused_ends_it(merchant_a, monkeypatch):
    sub = start(merchant_a, max_charges=2)
    with merchant_initiated_outcome(monkeypatch, ["decline"]):
        sub = subscriptions.advance_clock(sub, 31)
    page_payment = subscriptions.next_charge(sub).page_payment
    sub = subscriptions.pause(sub, by="api")
    pay_page({"hosted_payment": {"payment_url": subscriptions.representations.hosted_payment_url(page_payment)}})
    sub = reload(sub)
    assert sub.status == Status.ENDED and sub.paid_charges == 2
    assert subscriptions.next_charge(sub) is None  # no third charge, ever
    assert not SubscriptionCharge.objects.filter(subscription=sub, period=3).exists()
