"""Dashboard pages of subscriptions: the figures (subscribers, monthly recurring revenue, churn,
failing payments), the list and its filters, the detail, pause / resume / cancel, the test clock,
permissions, tenant and mode isolation, the home's attention line and the payment's link.

Rows for figures and filters are made with the ORM; the flows go through payments.subscriptions."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from merchants.models import AuditLog, Membership
from payments import subscriptions
from payments.dashboard import subscriptions as dashboard_subscriptions
from payments.models import Payment, Subscription, SubscriptionCharge
from tests import factories
from tests.merchants.helpers_team import login
from tests.payments.helpers import create_payment
from tests.payments.installments.helpers import today
from tests.payments.subscriptions.helpers import create, reload, start

Status = Subscription.Status
CanceledBy = Subscription.CanceledBy
ChargeStatus = SubscriptionCharge.Status


def make_sub(merchant, *, is_live=False, email="jeanne@example.org", **fields) -> Subscription:
    values = {
        "status": Status.ACTIVE,
        "amount": 1000,
        "interval": Subscription.Interval.MONTH,
        "interval_count": 1,
        "start_date": today(merchant),
        "billing": {"email": email, "first_name": "Jeanne", "last_name": "Martin"},
        "activated_at": timezone.now() - timedelta(days=60),
    }
    values.update(fields)
    return Subscription.objects.create(merchant=merchant, is_live=is_live, **values)


def day_text(day) -> str:
    """A day as the dashboard writes it in English: '4 Jan 2027'."""
    return f"{day.day} {day.strftime('%b')} {day.year}"


def sub_ids(html: str) -> set[str]:
    return set(re.findall(r'href="/dashboard/subscriptions/(sub_\w+)/"', html))


def page(client, name, *args, query=""):
    response = client.get(reverse(f"dashboard:{name}", args=args) + query)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def figure(html: str, name: str) -> str:
    match = re.search(rf'id="figure-{name}">(.*?)</div>', html, re.S)
    assert match, name
    return unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


@pytest.fixture
def owner(client, alice, merchant_a):
    return login(client, alice, merchant_a)


# --- figures -----------------------------------------------------------------------------------------


def test_monthly_recurring_revenue_counts_active_and_past_due_per_month(owner, merchant_a, merchant_b):
    # given
    make_sub(merchant_a, amount=1000)  # €10.00 a month
    make_sub(merchant_a, amount=5000, interval_count=2, status=Status.PAST_DUE)  # €25.00 a month
    make_sub(merchant_a, amount=3000, interval=Subscription.Interval.YEAR)  # €2.50 a month
    make_sub(merchant_a, amount=9900, status=Status.PAUSED)  # not charged: not counted
    make_sub(merchant_a, amount=9900, status=Status.INCOMPLETE, activated_at=None)
    make_sub(merchant_a, amount=9900, status=Status.CANCELED, canceled_at=timezone.now())
    make_sub(merchant_a, amount=9900, status=Status.ENDED, ended_at=timezone.now())
    make_sub(merchant_a, amount=9900, is_live=True)  # the other mode
    make_sub(merchant_b, amount=9900)  # another merchant

    # when
    result = dashboard_subscriptions.figures(merchant_a, False)
    html = page(owner, "subscriptions")

    # then
    assert (result.subscribers, result.monthly_revenue, result.past_due) == (3, 3750, 1)
    assert figure(html, "subscribers") == "3"
    assert figure(html, "mrr") == "€37.50"
    assert figure(html, "past-due") == "1"
    assert '<a href="/dashboard/subscriptions/?status=past_due">1</a>' in html


def test_monthly_recurring_revenue_uses_the_models_rounding_per_subscription(merchant_a):
    make_sub(merchant_a, amount=1000, interval=Subscription.Interval.YEAR)  # 83.33 → 83 each
    make_sub(merchant_a, amount=1000, interval=Subscription.Interval.YEAR)
    make_sub(merchant_a, amount=1000, interval_count=3)  # 333.33 → 333
    result = dashboard_subscriptions.figures(merchant_a, False)
    assert result.monthly_revenue == 83 + 83 + 333


def test_churn_is_cancellations_of_the_last_30_days_over_the_subscribers_30_days_ago(owner, merchant_a):
    now = timezone.now()
    ago = {days: now - timedelta(days=days) for days in (3, 5, 10, 35, 40, 50)}
    # Subscribers 30 days ago: the three below.
    make_sub(merchant_a, activated_at=ago[40])
    make_sub(
        merchant_a, activated_at=ago[40], status=Status.CANCELED, canceled_at=ago[10], canceled_by=CanceledBy.SUBSCRIBER
    )
    make_sub(
        merchant_a,
        activated_at=ago[40],
        status=Status.CANCELED,
        canceled_at=ago[5],
        canceled_by=CanceledBy.PAYMENT_FAILED,
    )
    # Not subscribers 30 days ago: canceled or ended before, started after, never started.
    make_sub(
        merchant_a, activated_at=ago[50], status=Status.CANCELED, canceled_at=ago[35], canceled_by=CanceledBy.MERCHANT
    )
    make_sub(merchant_a, activated_at=ago[50], status=Status.ENDED, ended_at=ago[35])
    make_sub(merchant_a, activated_at=ago[10], status=Status.CANCELED, canceled_at=ago[3], canceled_by=CanceledBy.API)
    make_sub(  # first payment never made: neither a subscriber nor a loss
        merchant_a, activated_at=None, status=Status.CANCELED, canceled_at=ago[3], canceled_by=CanceledBy.FIRST_PAYMENT
    )
    # The other mode does not count.
    make_sub(
        merchant_a,
        is_live=True,
        activated_at=ago[40],
        status=Status.CANCELED,
        canceled_at=ago[5],
        canceled_by=CanceledBy.SUBSCRIBER,
    )

    result = dashboard_subscriptions.figures(merchant_a, False)
    # The one started 10 days ago and canceled since is not of the base, so not counted either.
    assert (result.churned, result.churn_base) == (2, 3)
    assert round(result.churn_percent, 1) == 66.7

    Subscription.objects.filter(canceled_by=CanceledBy.SUBSCRIBER, is_live=False).update(canceled_at=ago[35])
    result = dashboard_subscriptions.figures(merchant_a, False)
    assert (result.churned, result.churn_base) == (1, 2)
    html = page(owner, "subscriptions")
    assert figure(html, "churn") == "50.0 %"
    assert figure(html, "churn-counts") == "1 canceled of 2 subscribers 30 days ago"


def test_churn_says_dash_when_there_was_nobody_30_days_ago(owner, merchant_a):
    make_sub(merchant_a, activated_at=timezone.now() - timedelta(days=2))
    html = page(owner, "subscriptions")
    assert figure(html, "churn") == "—"
    assert 'id="figure-churn-counts"' not in html
    assert figure(html, "past-due") == "0"


# --- the list ----------------------------------------------------------------------------------------


def test_the_list_shows_terms_status_next_charge_of_this_merchant_and_mode(owner, merchant_a, merchant_b):
    monthly = make_sub(merchant_a, amount=1000)
    every_two = make_sub(merchant_a, amount=5000, interval_count=2, email="paul@example.org")
    yearly = make_sub(merchant_a, amount=3000, interval=Subscription.Interval.YEAR, status=Status.PAST_DUE)
    next_day = today(merchant_a) + timedelta(days=12)
    SubscriptionCharge.objects.create(
        subscription=monthly, period=1, date=today(merchant_a), amount=1000, status="paid"
    )
    SubscriptionCharge.objects.create(subscription=monthly, period=2, date=next_day, amount=1000)
    live = make_sub(merchant_a, is_live=True)
    theirs = make_sub(merchant_b)

    html = page(owner, "subscriptions")

    assert sub_ids(html) == {monthly.public_id, every_two.public_id, yearly.public_id}
    row = html[html.index(monthly.public_id) : html.index("</tr>", html.index(monthly.public_id))]
    assert '<td class="num">€10.00 / month</td>' in row
    assert '<span class="badge ok">Active</span>' in row
    assert f"<td>{day_text(next_day)}</td>" in row
    assert "jeanne@example.org" in row and "Jeanne Martin" in row
    assert '<td class="num">€50.00 every 2 months</td>' in html
    assert '<td class="num">€30.00 / year</td>' in html
    assert '<span class="badge warn">Past due</span>' in html
    assert 'class="table-wrap"' in html and "filter-bar" in html
    assert "style=" not in html and "<script>" not in html
    assert "<span>Subscriptions</span>" in html  # the sidebar's entry
    assert 'href="/dashboard/subscriptions/" aria-current="page"' in html
    # Neither the other mode's nor another merchant's subscription is found, even by its id.
    for sub in (live, theirs):
        assert owner.get(reverse("dashboard:subscription", args=[sub.public_id])).status_code == 404
        assert owner.get(reverse("dashboard:subscription_cancel", args=[sub.public_id])).status_code == 404
        for name in ("subscription_pause", "subscription_resume", "subscription_cancel"):
            assert owner.post(reverse(f"dashboard:{name}", args=[sub.public_id])).status_code == 404
        clock = reverse("dashboard:subscription_clock", args=[sub.public_id])
        assert owner.post(clock, {"days": "30"}).status_code == 404
        sub.refresh_from_db()
        assert sub.status == Status.ACTIVE and sub.clock_offset == timedelta(0)


def test_the_terms_label_in_each_form():
    label = dashboard_subscriptions.terms_label
    assert label(1000, "EUR", "month", 1) == "€10.00 / month"
    assert label(5000, "EUR", "month", 2) == "€50.00 every 2 months"
    assert label(3000, "EUR", "year", 1) == "€30.00 / year"
    assert label(6000, "EUR", "year", 2) == "€60.00 every 2 years"


def test_an_empty_list_says_what_to_do(owner):
    html = page(owner, "subscriptions")
    assert "empty-state" in html and "No test subscriptions yet." in html
    html = page(owner, "subscriptions", query="?status=canceled")
    assert "No subscription matches these filters in this mode." in html


def test_the_status_filter_and_the_email_search(owner, merchant_a):
    active = make_sub(merchant_a, email="anne@example.org")
    past_due = make_sub(merchant_a, status=Status.PAST_DUE, email="bruno@example.org")
    paused = make_sub(merchant_a, status=Status.PAUSED, email="Anne.Other@example.org")
    canceled = make_sub(merchant_a, status=Status.CANCELED, canceled_at=timezone.now(), email="carl@example.org")
    everyone = {active.public_id, past_due.public_id, paused.public_id, canceled.public_id}
    expected = {
        "": everyone,
        "?status=active": {active.public_id},
        "?status=past_due": {past_due.public_id},
        "?status=paused": {paused.public_id},
        "?status=canceled": {canceled.public_id},
        "?status=nonsense": everyone,
        "?email=anne": {active.public_id, paused.public_id},  # part of it, any case
        "?email=BRUNO%40example.org": {past_due.public_id},
        "?email=anne&status=paused": {paused.public_id},
        "?email=nobody": set(),
    }
    for query, ids in expected.items():
        assert sub_ids(page(owner, "subscriptions", query=query)) == ids, query
    html = page(owner, "subscriptions", query="?status=paused&email=anne")
    assert '<option value="paused" selected>' in html and 'value="anne"' in html


def test_the_list_is_paginated_with_its_filters(owner, merchant_a, monkeypatch):
    monkeypatch.setattr(dashboard_subscriptions.queries.keyset_page, "__defaults__", (2,))
    ids = [make_sub(merchant_a, status=Status.PAST_DUE).public_id for _ in range(3)]
    make_sub(merchant_a)
    first = page(owner, "subscriptions", query="?status=past_due")
    assert sub_ids(first) == set(ids[1:])
    cursor = re.search(r'rel="next" href="\?status=past_due&amp;after=([\w-]+)"', first).group(1)
    second = page(owner, "subscriptions", query=f"?status=past_due&after={cursor}")
    assert sub_ids(second) == {ids[0]}
    assert 'rel="next"' not in second


# --- the detail --------------------------------------------------------------------------------------


def test_the_detail_shows_terms_consent_card_charges_and_payments(owner, api, merchant_a):
    sub = make_sub(
        merchant_a,
        amount=5000,
        interval_count=2,
        description="Membership",
        max_charges=6,
        paid_charges=1,
        consent_at=timezone.now() - timedelta(days=30),
        consent_text="I authorise Alice Shop to charge my card €50.00 every 2 months until I cancel.",
    )
    first = Payment.objects.get(public_id=create_payment(api, amount=5000)["id"])
    check = Payment.objects.get(public_id=create_payment(api, amount=5000)["id"])
    Payment.objects.filter(pk=first.pk).update(subscription=sub, subscription_period=1)
    Payment.objects.filter(pk=check.pk).update(subscription=sub, subscription_period=None)
    unrelated = create_payment(api)
    SubscriptionCharge.objects.create(
        subscription=sub, period=1, date=today(merchant_a), amount=5000, status="paid", paid_payment=first
    )
    retry_at = timezone.now() + timedelta(days=3)
    SubscriptionCharge.objects.create(
        subscription=sub,
        period=2,
        date=today(merchant_a),
        amount=5000,
        status=ChargeStatus.RETRYING,
        attempts=1,
        next_attempt_at=retry_at,
    )

    html = unescape(page(owner, "subscription", sub.public_id))

    assert '<div class="value" id="subscription-terms">€50.00 every 2 months</div>' in html
    assert "Membership" in html and "After 6 charges" in html
    assert "I authorise Alice Shop to charge my card €50.00 every 2 months until I cancel." in html
    assert f"Declined, to be retried on {day_text(timezone.localdate(retry_at))}" in html
    assert "1 declined charge" in html
    assert f'href="/dashboard/payments/{first.public_id}/"' in html
    assert f'href="/dashboard/payments/{check.public_id}/"' in html
    assert "Card check (nothing charged)" in html
    assert unrelated["id"] not in html
    assert f"{day_text(timezone.localdate(retry_at))} · €50.00" in html  # the next charge is the retry
    assert "Pause" in html and "Cancel the subscription" in html and "Advance the test clock" in html
    assert "Resume" not in html
    assert "style=" not in html and "<script>" not in html and " onclick" not in html


def test_a_canceled_subscription_says_by_whom_and_offers_no_action(owner, merchant_a):
    sub = make_sub(
        merchant_a, status=Status.CANCELED, canceled_at=timezone.now(), canceled_by=CanceledBy.PAYMENT_FAILED
    )
    html = page(owner, "subscription", sub.public_id)
    assert 'id="subscription-canceled"' in html and "by failed payments" in html
    assert "Pause" not in html and "Cancel the subscription" not in html and "Advance the test clock" not in html
    response = owner.get(reverse("dashboard:subscription_cancel", args=[sub.public_id]), follow=True)
    assert b"there is nothing left to cancel" in response.content


def test_actions_are_post_only(owner, merchant_a):
    sub = make_sub(merchant_a)
    for name in ("subscription_pause", "subscription_resume", "subscription_clock"):
        assert owner.get(reverse(f"dashboard:{name}", args=[sub.public_id])).status_code == 405, name
    sub.refresh_from_db()
    assert sub.status == Status.ACTIVE


@pytest.mark.parametrize("role", [Membership.Role.ACCOUNTANT, Membership.Role.DEVELOPER])
def test_roles_that_cannot_refund_see_but_cannot_change_a_subscription(client, merchant_a, role):
    sub = make_sub(merchant_a)
    paused = make_sub(merchant_a, status=Status.PAUSED)
    viewer = login(client, factories.member(merchant_a, "viewer@example.org", role), merchant_a)
    assert sub.public_id in page(viewer, "subscriptions")
    html = page(viewer, "subscription", sub.public_id)  # they see it
    assert "Pause" not in html and "Cancel the subscription" not in html and "Advance the test clock" not in html
    for name in ("subscription_pause", "subscription_cancel"):
        assert viewer.post(reverse(f"dashboard:{name}", args=[sub.public_id])).status_code == 403, name
    assert viewer.post(reverse("dashboard:subscription_resume", args=[paused.public_id])).status_code == 403
    assert viewer.get(reverse("dashboard:subscription_cancel", args=[sub.public_id])).status_code == 403
    clock = reverse("dashboard:subscription_clock", args=[sub.public_id])
    assert viewer.post(clock, {"days": "30"}).status_code == 403
    sub.refresh_from_db()
    paused.refresh_from_db()
    assert (sub.status, paused.status, sub.clock_offset) == (Status.ACTIVE, Status.PAUSED, timedelta(0))
    assert not AuditLog.objects.filter(object_id__in=[sub.public_id, paused.public_id]).exists()


def test_the_list_needs_a_login(client, merchant_a):
    sub = make_sub(merchant_a)
    for url in (reverse("dashboard:subscriptions"), reverse("dashboard:subscription", args=[sub.public_id])):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"]
    assert client.post(reverse("dashboard:subscription_cancel", args=[sub.public_id])).status_code == 302
    sub.refresh_from_db()
    assert sub.status == Status.ACTIVE


def test_the_actions_need_the_csrf_token(alice, merchant_a):
    sub = make_sub(merchant_a)
    strict = login(Client(enforce_csrf_checks=True), alice, merchant_a)
    assert strict.post(reverse("dashboard:subscription_cancel", args=[sub.public_id])).status_code == 403
    assert strict.post(reverse("dashboard:subscription_pause", args=[sub.public_id])).status_code == 403
    sub.refresh_from_db()
    assert sub.status == Status.ACTIVE


# --- live mode ---------------------------------------------------------------------------------------


def test_live_mode_shows_live_subscriptions_and_refuses_the_test_clock(client):
    owner_user = factories.user("olive@example.org")
    shop = factories.live_merchant("Olive Shop", owner=owner_user)
    live = make_sub(shop, is_live=True, amount=2000)
    test = make_sub(shop, is_live=False)
    login(client, owner_user, shop, live=True)

    html = page(client, "subscriptions")
    assert sub_ids(html) == {live.public_id}
    assert figure(html, "mrr") == "€20.00"
    html = page(client, "subscription", live.public_id)
    assert "Advance the test clock" not in html and "Cancel the subscription" in html
    response = client.post(reverse("dashboard:subscription_clock", args=[live.public_id]), {"days": "30"})
    assert response.status_code == 403
    live.refresh_from_db()
    assert live.clock_offset == timedelta(0)
    assert client.get(reverse("dashboard:subscription", args=[test.public_id])).status_code == 404

    login(client, owner_user, shop, live=False)
    assert sub_ids(page(client, "subscriptions")) == {test.public_id}
    assert client.get(reverse("dashboard:subscription", args=[live.public_id])).status_code == 404


# --- home and payment --------------------------------------------------------------------------------


def test_past_due_subscriptions_need_attention_on_the_home(owner, merchant_a, merchant_b):
    make_sub(merchant_a)  # active: not counted
    make_sub(merchant_a, status=Status.PAST_DUE, is_live=True)  # the other mode
    make_sub(merchant_b, status=Status.PAST_DUE)  # another merchant
    html = page(owner, "home")
    assert "declined payment to be retried" not in html

    make_sub(merchant_a, status=Status.PAST_DUE)
    make_sub(merchant_a, status=Status.PAST_DUE)
    html = page(owner, "home")
    assert "2 subscriptions have a declined payment to be retried" in html
    assert "/dashboard/subscriptions/?status=past_due" in html


def test_a_payment_of_a_subscription_links_to_it(owner, api, merchant_a):
    sub = make_sub(merchant_a)
    charge = create_payment(api)
    check = create_payment(api)
    Payment.objects.filter(public_id=charge["id"]).update(subscription=sub, subscription_period=3)
    Payment.objects.filter(public_id=check["id"]).update(subscription=sub, subscription_period=None)
    link = f'<a class="mono" href="/dashboard/subscriptions/{sub.public_id}/">{sub.public_id}</a>'

    assert f"Charge 3 of subscription {link}" in page(owner, "payment", charge["id"])
    assert f"Card check for subscription {link}" in page(owner, "payment", check["id"])
    assert 'id="payment-subscription"' not in page(owner, "payment", create_payment(api)["id"])


# --- flows through payments.subscriptions ------------------------------------------------------------


def test_pause_resume_and_cancel_are_audited(owner, merchant_a):
    sub = start(merchant_a)
    detail = reverse("dashboard:subscription", args=[sub.public_id])

    response = owner.post(reverse("dashboard:subscription_pause", args=[sub.public_id]))
    assert response.status_code == 302 and response["Location"] == detail
    assert reload(sub).status == Status.PAUSED
    html = page(owner, "subscription", sub.public_id)
    assert "Subscription paused" in html and ">Resume<" in html and ">Pause<" not in html

    assert owner.post(reverse("dashboard:subscription_resume", args=[sub.public_id])).status_code == 302
    assert reload(sub).status == Status.ACTIVE

    cancel = reverse("dashboard:subscription_cancel", args=[sub.public_id])
    confirm = owner.get(cancel)
    assert confirm.status_code == 200 and b"Confirm: cancel the subscription" in confirm.content
    assert reload(sub).status == Status.ACTIVE  # a GET changes nothing
    assert owner.post(cancel).status_code == 302
    sub = reload(sub)
    assert (sub.status, sub.canceled_by) == (Status.CANCELED, CanceledBy.MERCHANT)
    assert not sub.charges.filter(status__in=SubscriptionCharge.OPEN).exists()
    html = page(owner, "subscription", sub.public_id)
    assert "by the merchant" in html and "Cancel the subscription" not in html

    entries = AuditLog.objects.filter(merchant=merchant_a, object_id=sub.public_id).order_by("pk")
    assert [entry.action for entry in entries] == [
        "subscription.paused",
        "subscription.resumed",
        "subscription.canceled",
    ]
    assert all(entry.is_live is False and entry.actor.email == "alice@example.org" for entry in entries)


def test_support_may_cancel(client, merchant_a):
    sub = make_sub(merchant_a)
    support = login(client, factories.member(merchant_a, "support@example.org", Membership.Role.SUPPORT), merchant_a)
    assert support.post(reverse("dashboard:subscription_cancel", args=[sub.public_id])).status_code == 302
    assert reload(sub).status == Status.CANCELED


def test_a_refused_action_is_shown_next_to_the_buttons(owner, merchant_a):
    sub = create(merchant_a)  # the first payment is not made yet
    response = owner.post(reverse("dashboard:subscription_pause", args=[sub.public_id]))
    assert response.status_code == 400
    html = response.content.decode()
    assert (
        '<p class="error" role="alert" id="action-error">A subscription that is incomplete cannot be paused.</p>'
        in html
    )
    assert reload(sub).status == Status.INCOMPLETE
    assert not AuditLog.objects.filter(object_id=sub.public_id).exists()


def test_the_detail_of_a_started_subscription(owner, merchant_a):
    sub = start(merchant_a, amount=1500)
    html = unescape(page(owner, "subscription", sub.public_id))
    assert "€15.00 / month" in html
    assert '<span class="badge ok" id="subscription-status">Active</span>' in html
    assert sub.consent_text and sub.consent_text in html  # the exact words agreed to
    card = sub.card
    assert f"{card.brand} •••• 4242 · expires 12/{card.exp_year}" in html
    (first,) = Payment.objects.filter(subscription=sub)
    assert f'href="/dashboard/payments/{first.public_id}/"' in html
    next_day = subscriptions.next_charge(sub).date
    assert f"{day_text(next_day)} · €15.00" in html
    assert "Charge 1 of subscription" in page(owner, "payment", first.public_id)


def test_a_card_check_payment_says_so(owner, merchant_a):
    sub = create(merchant_a, start_date=today(merchant_a) + timedelta(days=10))
    (check,) = Payment.objects.filter(subscription=sub)
    assert check.subscription_period is None
    assert "Card check for subscription" in page(owner, "payment", check.public_id)
    assert "Card check (nothing charged)" in page(owner, "subscription", sub.public_id)


def test_the_test_clock_charges_the_next_period(owner, merchant_a):
    sub = start(merchant_a)
    clock = reverse("dashboard:subscription_clock", args=[sub.public_id])
    due = subscriptions.next_charge(sub).date
    days = (due - today(merchant_a)).days

    response = owner.post(clock, {"days": str(days - 1)}, follow=True)
    sub_day = day_text(today(merchant_a) + timedelta(days=days - 1))
    assert f"Test clock advanced by {days - 1} days: the subscription's date is now {sub_day}." in unescape(
        response.content.decode()
    )
    assert sub.charges.get(period=2).status == ChargeStatus.SCHEDULED
    owner.post(clock, {"days": "1"})
    second = sub.charges.get(period=2)
    assert second.status == ChargeStatus.PAID
    assert second.paid_payment.initiator == "MERCHANT" and second.paid_payment.status == Payment.Status.PAID
    assert reload(sub).paid_charges == 2
    html = page(owner, "subscription", sub.public_id)
    assert f'href="/dashboard/payments/{second.paid_payment.public_id}/"' in html

    for bad in ("0", "-3", "abc", "367", ""):
        response = owner.post(clock, {"days": bad})
        assert response.status_code == 400, bad
        assert b'id="clock-error">Enter a number of days between 1 and 366.</p>' in response.content, bad
    assert reload(sub).clock_offset == timedelta(days=days)
