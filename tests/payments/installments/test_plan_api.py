"""POST/GET/PATCH /v1/installment_plans and the test clock: validation, errors, scoping, idempotency."""

from __future__ import annotations

from datetime import timedelta

import pytest

from payments.models import Installment, InstallmentPlan, Payment
from tests import factories
from tests.payments.api.test_openapi import Document, load_document

from .helpers import create_plan, plan_body, today


def _schedule_error(api, merchant, schedule):
    before = (InstallmentPlan.objects.count(), Payment.objects.count())
    response = api.post("/v1/installment_plans", plan_body(merchant, schedule=schedule))
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["object"] == "error" and body["code"] == "invalid_request"
    assert (InstallmentPlan.objects.count(), Payment.objects.count()) == before  # nothing written
    return body


def _days(merchant, n):
    return (today(merchant) + timedelta(days=n)).isoformat()


def test_a_schedule_of_one_or_five_items_is_refused(api, merchant_a):
    one = [{"date": "TODAY", "amount": 1000}]
    body = _schedule_error(api, merchant_a, one)
    assert body["message"].startswith("schedule: ") and "2 to 4" in body["message"]
    assert set(body["details"]) == {"schedule"}
    five = [{"date": "TODAY", "amount": 1000}] + [{"date": _days(merchant_a, n), "amount": 1000} for n in (1, 2, 3, 4)]
    assert _schedule_error(api, merchant_a, five)["message"].startswith("schedule: ")
    assert _schedule_error(api, merchant_a, "monthly")["message"].startswith("schedule: ")


def test_a_missing_schedule_is_refused(api, merchant_a):
    body = plan_body(merchant_a)
    del body["schedule"]
    response = api.post("/v1/installment_plans", body)
    assert response.status_code == 400 and response.json()["message"] == "schedule: is required."


@pytest.mark.parametrize(
    ("first", "message"),
    [
        (-1, 'schedule[0].date: must be "TODAY" or today'),
        (1, 'schedule[0].date: must be "TODAY" or today'),
        ("yesterday", "schedule[0].date: must be a date (YYYY-MM-DD)"),
    ],
)
def test_the_first_date_must_be_today(api, merchant_a, first, message):
    date = _days(merchant_a, first) if isinstance(first, int) else first
    body = _schedule_error(
        api, merchant_a, [{"date": date, "amount": 1000}, {"date": _days(merchant_a, 30), "amount": 1000}]
    )
    assert body["message"].startswith(message)
    assert set(body["details"]["schedule"]) == {"0"} and "date" in body["details"]["schedule"]["0"]


def test_today_s_date_is_accepted_for_the_first_installment(api, merchant_a):
    plan = create_plan(
        api,
        merchant_a,
        schedule=[{"date": _days(merchant_a, 0), "amount": 1000}, {"date": _days(merchant_a, 30), "amount": 1000}],
    )
    assert plan["schedule"][0]["date"] == _days(merchant_a, 0)


def test_later_dates_must_increase_and_stay_within_a_year(api, merchant_a):
    same = [
        {"date": "TODAY", "amount": 1000},
        {"date": _days(merchant_a, 30), "amount": 1000},
        {"date": _days(merchant_a, 30), "amount": 1000},
    ]
    body = _schedule_error(api, merchant_a, same)
    assert body["message"].startswith("schedule[2].date: must be after schedule[1].date")
    assert body["details"] == {"schedule": {"2": {"date": body["message"].split(": ", 1)[1]}}}

    past = [{"date": "TODAY", "amount": 1000}, {"date": _days(merchant_a, -3), "amount": 1000}]
    assert _schedule_error(api, merchant_a, past)["message"].startswith("schedule[1].date: must be after today")
    far = [{"date": "TODAY", "amount": 1000}, {"date": _days(merchant_a, 366), "amount": 1000}]
    assert _schedule_error(api, merchant_a, far)["message"].startswith("schedule[1].date: must be at most 365 days")
    assert create_plan(api, merchant_a, schedule=[far[0], {"date": _days(merchant_a, 365), "amount": 1000}])
    later_today = [{"date": "TODAY", "amount": 1000}, {"date": "TODAY", "amount": 1000}]
    assert _schedule_error(api, merchant_a, later_today)["message"].startswith("schedule[1].date: must be a date")


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (98, "schedule[1].amount: must be between 99 and 2000000 cents."),
        (2_000_001, "schedule[1].amount: must be between 99 and 2000000 cents."),
        ("1000", "schedule[1].amount: must be an integer (cents)."),
        (True, "schedule[1].amount: must be an integer (cents)."),
        (None, "schedule[1].amount: must be an integer (cents)."),
    ],
)
def test_each_amount_must_be_within_the_payment_limits(api, merchant_a, amount, message):
    body = _schedule_error(
        api, merchant_a, [{"date": "TODAY", "amount": 1000}, {"date": _days(merchant_a, 30), "amount": amount}]
    )
    assert body["message"] == message


def test_item_problems_are_each_named(api, merchant_a):
    body = _schedule_error(
        api,
        merchant_a,
        [{"date": "TODAY"}, {"date": _days(merchant_a, 30), "amount": 1000, "note": "x"}, "third"],
    )
    assert body["message"] == "schedule[0].amount: is required."
    assert body["details"]["schedule"] == {
        "0": {"amount": "is required."},
        "1": {"note": "is not a known field."},
        "2": {"non_field_errors": "must be a JSON object with date and amount."},
    }


def test_other_fields_are_validated_with_the_schedule(api, merchant_a):
    body = plan_body(merchant_a, currency="USD", schedule=[{"date": "TODAY", "amount": 1}])
    del body["hosted_payment"]
    response = api.post("/v1/installment_plans", body)
    assert response.status_code == 400
    details = response.json()["details"]
    assert set(details) == {"currency", "hosted_payment", "schedule"}
    assert api.post("/v1/installment_plans", {**plan_body(merchant_a), "amount": 1000}).json()["details"] == {
        "amount": "is not a known field."
    }
    no_billing = plan_body(merchant_a)
    del no_billing["billing"]
    assert api.post("/v1/installment_plans", no_billing).json()["details"] == {"billing": "is required."}
    legacy = plan_body(merchant_a, customer=no_billing.get("customer") or plan_body(merchant_a)["billing"])
    del legacy["billing"]
    assert api.post("/v1/installment_plans", legacy).status_code == 201


def test_the_merchant_s_own_limits_apply(api, merchant_a):
    merchant_a.max_amount = 50_000
    merchant_a.save()
    body = _schedule_error(
        api, merchant_a, [{"date": "TODAY", "amount": 60_000}, {"date": _days(merchant_a, 1), "amount": 100}]
    )
    assert body["message"] == "schedule[0].amount: must be between 99 and 50000 cents."


def test_created_plan_object_matches_the_contract_and_the_schema(api, merchant_a):
    plan = create_plan(api, merchant_a)
    assert set(plan) == {
        "id",
        "object",
        "is_live",
        "currency",
        "created_at",
        "is_active",
        "is_fully_paid",
        "schedule",
        "failure",
        "billing",
        "shipping",
        "hosted_payment",
        "notification",
        "metadata",
    }
    assert plan["is_live"] is False and plan["currency"] == "EUR" and plan["metadata"] == {"order_id": "42"}
    assert plan["schedule"][0]["date"] == today(merchant_a).isoformat()
    assert [item["amount"] for item in plan["schedule"]] == [15000] * 3
    assert plan["hosted_payment"]["return_url"] == "https://shop.example.org/ok"
    assert plan["hosted_payment"]["payment_url"].startswith("http")
    assert plan["notification"] == {"url": "https://shop.example.org/ipn", "response_code": None}
    first = api.get(f"/v1/payments/{plan['schedule'][0]['payment_ids'][0]}").json()
    assert first["hosted_payment"]["payment_url"] == plan["hosted_payment"]["payment_url"]
    assert first["installment_plan_id"] == plan["id"] and first["save_card"] is True and first["amount"] == 15000

    document = Document(load_document())
    document.check("get", "/v1/installment_plans/{installment_plan_id}", api.get(f"/v1/installment_plans/{plan['id']}"))
    document.check("get", "/v1/payments/{payment_id}", api.get(f"/v1/payments/{first['id']}"))
    document.check("post", "/v1/installment_plans", api.post("/v1/installment_plans", plan_body(merchant_a)))
    error = api.post("/v1/installment_plans", plan_body(merchant_a, schedule=[]))
    document.check("post", "/v1/installment_plans", error)


def test_another_merchant_s_plan_and_the_other_mode_s_are_not_found(api, api_b, merchant_a):
    plan = create_plan(api, merchant_a)
    for path in (f"/v1/installment_plans/{plan['id']}",):
        response = api_b.get(path)
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert api_b.patch(f"/v1/installment_plans/{plan['id']}", {"aborted": True}).status_code == 404
    assert api_b.post(f"/v1/installment_plans/{plan['id']}/test_clock", {"advance_days": 30}).status_code == 404
    assert InstallmentPlan.objects.get(public_id=plan["id"]).is_active is True
    assert api.get("/v1/installment_plans/inst_doesnotexist000000000000").status_code == 404


def test_the_other_mode_s_plan_is_not_found(alice):
    merchant = factories.live_merchant("Live Shop", owner=alice)
    test = factories.ApiClient(factories.secret_key(merchant))
    live = factories.ApiClient(factories.secret_key(merchant, is_live=True))
    plan = create_plan(test, merchant)
    assert live.get(f"/v1/installment_plans/{plan['id']}").status_code == 404
    assert live.patch(f"/v1/installment_plans/{plan['id']}", {"aborted": True}).status_code == 404
    assert test.get(f"/v1/installment_plans/{plan['id']}").status_code == 200


def test_the_test_clock_is_refused_in_live_mode(alice):
    merchant = factories.live_merchant("Live Shop", owner=alice)
    merchant.live_save_card_enabled = True
    merchant.save()
    live = factories.ApiClient(factories.secret_key(merchant, is_live=True))
    response = live.post("/v1/installment_plans", plan_body(merchant))
    assert response.status_code == 201, response.content
    plan = response.json()
    assert plan["is_live"] is True
    refused = live.post(f"/v1/installment_plans/{plan['id']}/test_clock", {"advance_days": 30})
    assert refused.status_code == 403 and refused.json()["code"] == "feature_not_enabled"
    assert InstallmentPlan.objects.get(public_id=plan["id"]).clock_offset == timedelta(0)


def test_live_plans_need_saved_cards_enabled(alice):
    merchant = factories.live_merchant("Live Shop", owner=alice)
    live = factories.ApiClient(factories.secret_key(merchant, is_live=True))
    response = live.post("/v1/installment_plans", plan_body(merchant))
    assert response.status_code == 403 and response.json()["code"] == "feature_not_enabled"
    assert InstallmentPlan.objects.count() == 0


@pytest.mark.parametrize("days", [0, -1, 367, "30", 1.5, None])
def test_the_test_clock_takes_1_to_366_days(api, merchant_a, days):
    plan = create_plan(api, merchant_a)
    response = api.post(f"/v1/installment_plans/{plan['id']}/test_clock", {"advance_days": days})
    assert response.status_code == 400 and response.json()["message"].startswith("advance_days: ")
    assert InstallmentPlan.objects.get(public_id=plan["id"]).clock_offset == timedelta(0)


@pytest.mark.parametrize("body", [{}, {"aborted": False}, {"aborted": "yes"}, {"abort": True}])
def test_the_only_change_is_aborted_true(api, merchant_a, body):
    plan = create_plan(api, merchant_a)
    response = api.patch(f"/v1/installment_plans/{plan['id']}", body)
    assert response.status_code == 400
    assert InstallmentPlan.objects.get(public_id=plan["id"]).is_active is True


def test_idempotency_key_replays_the_creation(api, merchant_a):
    headers = {"Idempotency-Key": "plan-42"}
    first = api.post("/v1/installment_plans", plan_body(merchant_a), headers=headers)
    again = api.post("/v1/installment_plans", plan_body(merchant_a), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert InstallmentPlan.objects.count() == 1 and Installment.objects.count() == 3
    other = api.post("/v1/installment_plans", plan_body(merchant_a, metadata={"order_id": "43"}), headers=headers)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"


def test_a_suspended_merchant_cannot_create_a_plan(api, merchant_a):
    merchant_a.status = merchant_a.Status.SUSPENDED
    merchant_a.save()
    response = api.post("/v1/installment_plans", plan_body(merchant_a))
    assert response.status_code in (401, 403)
    assert InstallmentPlan.objects.count() == 0
