"""Dashboard pages of installment plans (issue 13, items 1 and 6): the list and its filters, the
plan's schedule, abort, the test clock, the payment's link to its plan, the home's attention line."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from merchants import home
from merchants.models import AuditLog, Membership
from payments import installments
from payments.dashboard import installments as dashboard_installments
from payments.models import Installment, InstallmentPlan, Payment
from tests import factories
from tests.merchants.helpers_team import login
from tests.payments.helpers import create_payment, pay
from tests.payments.installments.helpers import (
    advance,
    create_plan,
    first_payment,
    merchant_initiated_outcome,
    today,
)


def paid_plan(api, merchant, **overrides):
    plan = create_plan(api, merchant, **overrides)
    pay(first_payment(plan))
    return plan


def day_text(day) -> str:
    """A day as the dashboard writes it in English: '4 Jan 2027'."""
    return f"{day.day} {day.strftime('%b')} {day.year}"


def plan_ids(html: str) -> set[str]:
    return set(re.findall(r'href="/dashboard/installment-plans/(inst_\w+)/"', html))


def page(client, name, *args, query=""):
    response = client.get(reverse(f"dashboard:{name}", args=args) + query)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def owner(client, alice, merchant_a):
    return login(client, alice, merchant_a)


def test_the_list_shows_the_plans_of_this_merchant_and_mode(owner, api, api_b, merchant_a, merchant_b):
    mine = paid_plan(api, merchant_a, amounts=(15000, 10000, 5000))
    theirs = create_plan(api_b, merchant_b)

    html = page(owner, "installment_plans")
    assert plan_ids(html) == {mine["id"]}
    row = html[html.index(mine["id"]) :]
    assert "jeanne@example.org" in row  # the customer (billing)
    assert '<td class="num">€300.00</td>' in row  # the total
    assert '<td class="num">€150.00</td>' in row  # paid so far
    assert f"<td>{day_text(today(merchant_a) + timedelta(days=30))} · €100.00</td>" in row  # next charge
    assert '<span class="badge">Active</span>' in row
    assert 'class="table-wrap"' in html
    assert "Installment plans" in html  # the sidebar's entry

    # Another merchant's plan is not found, even by its id.
    assert owner.get(reverse("dashboard:installment_plan", args=[theirs["id"]])).status_code == 404
    assert owner.get(reverse("dashboard:installment_plan_abort", args=[theirs["id"]])).status_code == 404
    response = owner.post(reverse("dashboard:installment_plan_clock", args=[theirs["id"]]), {"days": "30"})
    assert response.status_code == 404
    assert InstallmentPlan.objects.get(public_id=theirs["id"]).clock_offset == timedelta(0)


def test_an_empty_list_says_what_to_do(owner):
    html = page(owner, "installment_plans")
    assert "empty-state" in html and "No test installment plans yet." in html
    html = page(owner, "installment_plans", query="?state=failed")
    assert "No installment plan matches this filter in this mode." in html


def test_the_filters(owner, api, merchant_a, monkeypatch):
    active = paid_plan(api, merchant_a, amounts=(10000, 10000))
    fully_paid = paid_plan(api, merchant_a, amounts=(10000, 10000))
    advance(api, fully_paid["id"], 30)
    aborted = paid_plan(api, merchant_a, amounts=(10000, 10000))
    installments.abort_plan(InstallmentPlan.objects.get(public_id=aborted["id"]))
    failing = paid_plan(api, merchant_a, amounts=(10000, 10000))
    failed = paid_plan(api, merchant_a, amounts=(10000, 10000))
    with merchant_initiated_outcome(monkeypatch, ["decline"]):
        advance(api, failing["id"], 30)
        for days in (30, 1, 2, 4):
            advance(api, failed["id"], days)
    assert InstallmentPlan.objects.get(public_id=failed["id"]).failure_code == "card_declined"

    expected = {
        "": {active["id"], fully_paid["id"], aborted["id"], failing["id"], failed["id"]},
        "active": {active["id"], failing["id"]},
        "fully_paid": {fully_paid["id"]},
        "failing": {failing["id"]},
        "failed": {failed["id"]},
        "aborted": {aborted["id"]},
        "nonsense": {active["id"], fully_paid["id"], aborted["id"], failing["id"], failed["id"]},
    }
    for state, ids in expected.items():
        html = page(owner, "installment_plans", query=f"?state={state}")
        assert plan_ids(html) == ids, state
    html = page(owner, "installment_plans", query="?state=failing")
    assert '<span class="badge warn">Failing</span>' in html


def test_the_list_is_paginated(owner, api, merchant_a, monkeypatch):
    monkeypatch.setattr(dashboard_installments.queries.keyset_page, "__defaults__", (2,))
    ids = [create_plan(api, merchant_a, amounts=(10000, 10000))["id"] for _ in range(3)]
    first = page(owner, "installment_plans", query="?state=active")
    assert plan_ids(first) == set(ids[1:])
    cursor = re.search(r'rel="next" href="\?state=active&amp;after=([\w-]+)"', first).group(1)
    second = page(owner, "installment_plans", query=f"?state=active&after={cursor}")
    assert plan_ids(second) == {ids[0]}
    assert 'rel="next"' not in second


def test_the_detail_shows_the_schedule_its_payments_and_attempts(owner, api, merchant_a, monkeypatch):
    plan = paid_plan(api, merchant_a, amounts=(10000, 10000, 10000))
    with merchant_initiated_outcome(monkeypatch, ["decline"]):
        plan = advance(api, plan["id"], 30)
    html = page(owner, "installment_plan", plan["id"])
    first_id = plan["schedule"][0]["payment_ids"][0]
    declined_id = plan["schedule"][1]["payment_ids"][0]
    assert f'href="/dashboard/payments/{first_id}/"' in html
    assert f'href="/dashboard/payments/{declined_id}/"' in html
    retry = day_text(today(merchant_a) + timedelta(days=31))
    assert f'<span class="badge warn">Declined, to be retried on {retry}</span>' in html
    assert f"{retry} · €100.00" in html  # the next charge is the next try
    assert "Scheduled" in html and ">Paid<" in html
    assert "Card declined" in html  # the declined attempt
    assert "•••• 4242" in html
    assert '<span class="badge warn" id="plan-state">Failing</span>' in html
    assert "Abort the plan" in html and "Advance the test clock" in html
    assert "style=" not in html and "<script>" not in html and " onclick" not in html


def test_a_failed_plan_shows_its_failure(owner, api, merchant_a, monkeypatch):
    plan = paid_plan(api, merchant_a, amounts=(10000, 10000, 10000))
    with merchant_initiated_outcome(monkeypatch, ["decline"]):
        for days in (30, 1, 2, 4):
            plan = advance(api, plan["id"], days)
    html = page(owner, "installment_plan", plan["id"])
    assert 'id="plan-failure"' in html and "Card declined" in html
    assert ">Failed<" in html and ">Canceled<" in html
    assert "Abort the plan" not in html and "Advance the test clock" not in html


def test_abort_asks_for_confirmation_then_aborts(owner, api, merchant_a):
    plan = paid_plan(api, merchant_a)
    url = reverse("dashboard:installment_plan_abort", args=[plan["id"]])
    confirm = owner.get(url)
    assert confirm.status_code == 200 and b"Confirm: abort the plan" in confirm.content
    assert InstallmentPlan.objects.get(public_id=plan["id"]).is_active  # a GET changes nothing

    response = owner.post(url)
    assert response.status_code == 302
    db_plan = InstallmentPlan.objects.get(public_id=plan["id"])
    assert not db_plan.is_active and db_plan.aborted_at is not None
    statuses = list(db_plan.installments.order_by("index").values_list("status", flat=True))
    assert statuses == [Installment.Status.PAID, Installment.Status.CANCELED, Installment.Status.CANCELED]
    html = page(owner, "installment_plan", plan["id"])
    assert ">Aborted<" in html and "Abort the plan" not in html
    (entry,) = AuditLog.objects.filter(merchant=merchant_a, action="installment_plan.aborted")
    assert entry.object_id == plan["id"] and entry.is_live is False


@pytest.mark.parametrize("role", [Membership.Role.ACCOUNTANT, Membership.Role.DEVELOPER])
def test_roles_that_cannot_refund_can_neither_abort_nor_move_the_clock(client, api, merchant_a, role):
    plan = paid_plan(api, merchant_a)
    viewer = login(client, factories.member(merchant_a, "viewer@example.org", role), merchant_a)
    html = page(viewer, "installment_plan", plan["id"])  # they see it
    assert "Abort the plan" not in html and "Advance the test clock" not in html
    abort = reverse("dashboard:installment_plan_abort", args=[plan["id"]])
    assert viewer.get(abort).status_code == 403
    assert viewer.post(abort).status_code == 403
    clock = reverse("dashboard:installment_plan_clock", args=[plan["id"]])
    assert viewer.post(clock, {"days": "30"}).status_code == 403
    db_plan = InstallmentPlan.objects.get(public_id=plan["id"])
    assert db_plan.is_active and db_plan.clock_offset == timedelta(0)


def test_support_may_abort(client, api, merchant_a):
    plan = paid_plan(api, merchant_a)
    support = login(client, factories.member(merchant_a, "support@example.org", Membership.Role.SUPPORT), merchant_a)
    assert support.post(reverse("dashboard:installment_plan_abort", args=[plan["id"]])).status_code == 302
    assert not InstallmentPlan.objects.get(public_id=plan["id"]).is_active


def test_the_test_clock_charges_the_next_installment(owner, api, merchant_a):
    plan = paid_plan(api, merchant_a, amounts=(10000, 10000, 10000))
    clock = reverse("dashboard:installment_plan_clock", args=[plan["id"]])
    assert owner.get(clock).status_code == 405  # POST only

    response = owner.post(clock, {"days": "29"}, follow=True)
    plan_day = day_text(today(merchant_a) + timedelta(days=29))
    assert f"Test clock advanced by 29 days: the plan's date is now {plan_day}." in unescape(response.content.decode())
    assert Installment.objects.get(plan__public_id=plan["id"], index=2).status == Installment.Status.SCHEDULED
    owner.post(clock, {"days": "1"})
    second = Installment.objects.get(plan__public_id=plan["id"], index=2)
    assert second.status == Installment.Status.PAID
    assert second.paid_payment.initiator == "MERCHANT" and second.paid_payment.status == Payment.Status.PAID
    assert Installment.objects.get(plan__public_id=plan["id"], index=3).status == Installment.Status.SCHEDULED

    for bad in ("0", "-3", "abc", "367", ""):
        response = owner.post(clock, {"days": bad}, follow=True)
        assert b"Enter a number of days between 1 and 366." in response.content, bad
    assert InstallmentPlan.objects.get(public_id=plan["id"]).clock_offset == timedelta(days=30)


def _live_plan(shop) -> InstallmentPlan:
    plan = InstallmentPlan.objects.create(merchant=shop, is_live=True, billing={"email": "jeanne@example.org"})
    start = timezone.localdate()
    for index in (1, 2):
        Installment.objects.create(
            plan=plan,
            index=index,
            date=start + timedelta(days=30 * (index - 1)),
            amount=10000,
            next_attempt_at=None if index == 1 else timezone.now() + timedelta(days=30),
        )
    return plan


def test_the_test_clock_is_refused_in_live_mode(client):
    owner = factories.user("olive@example.org")
    shop = factories.live_merchant("Olive Shop", owner=owner)
    plan = _live_plan(shop)
    login(client, owner, shop, live=True)

    html = page(client, "installment_plan", plan.public_id)
    assert "Advance the test clock" not in html and "Abort the plan" in html
    response = client.post(reverse("dashboard:installment_plan_clock", args=[plan.public_id]), {"days": "30"})
    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.clock_offset == timedelta(0)
    assert plan.installments.get(index=2).status == Installment.Status.SCHEDULED
    # The test mode's list does not show the live plan.
    login(client, owner, shop, live=False)
    assert plan.public_id not in page(client, "installment_plans")
    assert client.get(reverse("dashboard:installment_plan", args=[plan.public_id])).status_code == 404


def test_a_payment_of_a_plan_links_to_it(owner, api, merchant_a):
    plan = paid_plan(api, merchant_a, amounts=(10000, 10000, 10000))
    plan = advance(api, plan["id"], 30)
    second_id = plan["schedule"][1]["payment_ids"][0]
    html = page(owner, "payment", second_id)
    link = f'<a class="mono" href="/dashboard/installment-plans/{plan["id"]}/">{plan["id"]}</a>'
    assert f"Installment 2 of 3 of plan {link}" in html
    assert 'id="payment-installment"' not in page(owner, "payment", create_payment(api)["id"])


def test_failing_plans_need_attention_on_the_home(owner, api, merchant_a, monkeypatch):
    paid_plan(api, merchant_a, amounts=(10000, 10000))  # active, nothing declined: not counted
    failing = paid_plan(api, merchant_a, amounts=(10000, 10000))
    with merchant_initiated_outcome(monkeypatch, ["decline"]):
        advance(api, failing["id"], 30)
    html = page(owner, "home")
    assert "1 installment plan has a declined installment to be retried" in html
    assert "/dashboard/installment-plans/?state=failing" in html
    assert "failed in the last 7 days" not in html

    with merchant_initiated_outcome(monkeypatch, ["decline"]):
        for days in (1, 2, 4):
            advance(api, failing["id"], days)
    html = page(owner, "home")
    assert "1 installment plan failed in the last 7 days" in html
    assert "declined installment to be retried" not in html

    # Failed more than 7 days ago: no longer on the home.
    InstallmentPlan.objects.filter(public_id=failing["id"]).update(ended_at=timezone.now() - timedelta(days=8))
    assert "installment plan" not in " ".join(item.title for item in home.attention(owner_dashboard(owner)))


def owner_dashboard(client):
    """The DashboardContext of the logged-in client's last request."""
    response = client.get(reverse("dashboard:home"))
    return response.wsgi_request.dashboard
