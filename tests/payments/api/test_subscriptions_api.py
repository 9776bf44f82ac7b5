"""POST/GET/PATCH /v1/subscriptions and the test clock: validation, errors, scoping, idempotency,
pagination, pause/resume/cancel, and a second period charged by the test clock."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from payments.models import Payment, Subscription
from tests import factories
from tests.payments.api.test_openapi import Document, load_document
from tests.payments.helpers import BILLING
from tests.payments.installments.helpers import today
from tests.payments.subscriptions.helpers import pay_page

pytestmark = pytest.mark.django_db

OBJECT_KEYS = {
    "id",
    "object",
    "is_live",
    "status",
    "amount",
    "currency",
    "interval",
    "interval_count",
    "start_date",
    "end_date",
    "max_charges",
    "description",
    "created_at",
    "activated_at",
    "paused_at",
    "canceled_at",
    "canceled_by",
    "ended_at",
    "next_charge_date",
    "paid_charges",
    "payment_ids",
    "card",
    "failure",
    "consent",
    "billing",
    "hosted_payment",
    "notification",
    "metadata",
}


# --- helpers (the other test_subscriptions_* files use them too) ----------------------------------


def subscription_body(**overrides) -> dict:
    body = {
        "amount": 1000,
        "currency": "EUR",
        "interval": "month",
        "description": "Monthly donation",
        "billing": dict(BILLING),
        "hosted_payment": {
            "return_url": "https://asso.example.org/thanks",
            "cancel_url": "https://asso.example.org/ko",
        },
        "notification_url": "https://asso.example.org/ipn",
        "metadata": {"member_id": "1042"},
    }
    body.update(overrides)
    return body


def create_subscription(api, **overrides) -> dict:
    response = api.post("/v1/subscriptions", subscription_body(**overrides))
    assert response.status_code == 201, response.content
    return response.json()


def pay_first_page(sub: dict, number="4242 4242 4242 4242"):
    """The subscriber opens `hosted_payment.payment_url`, ticks the consent box and pays."""
    return pay_page({"hosted_payment": {"payment_url": sub["hosted_payment"]["payment_url"]}}, number=number)


def active_subscription(api, **overrides) -> dict:
    sub = create_subscription(api, **overrides)
    pay_first_page(sub)
    sub = api.get(f"/v1/subscriptions/{sub['id']}").json()
    assert sub["status"] == "active", sub
    return sub


def advance(api, sub_id: str, days: int) -> dict:
    response = api.post(f"/v1/subscriptions/{sub_id}/test_clock", {"advance_days": days})
    assert response.status_code == 200, response.content
    return response.json()


def counts():
    return Subscription.objects.count(), Payment.objects.count()


def refused(api, body) -> dict:
    """POST `body`: a 400 invalid_request, and nothing written."""
    before = counts()
    response = api.post("/v1/subscriptions", body)
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["object"] == "error" and error["code"] == "invalid_request", error
    assert counts() == before
    return error


def days_from_today(merchant, n: int) -> str:
    return (today(merchant) + timedelta(days=n)).isoformat()


# --- creation -------------------------------------------------------------------------------------


def test_a_created_subscription_has_the_contract_s_fields(api, merchant_a):
    sub = create_subscription(api)

    assert set(sub) == OBJECT_KEYS
    assert sub["id"].startswith("sub_") and sub["object"] == "subscription" and sub["is_live"] is False
    assert sub["status"] == "incomplete"
    assert (sub["amount"], sub["currency"], sub["interval"], sub["interval_count"]) == (1000, "EUR", "month", 1)
    assert sub["start_date"] == today(merchant_a).isoformat()
    assert sub["end_date"] is None and sub["max_charges"] is None
    assert sub["description"] == "Monthly donation" and sub["metadata"] == {"member_id": "1042"}
    assert sub["paid_charges"] == 0 and sub["card"] is None and sub["consent"] is None
    assert sub["activated_at"] is None and sub["canceled_at"] is None and sub["canceled_by"] is None
    assert sub["billing"]["email"] == BILLING["email"]
    assert sub["hosted_payment"]["payment_url"].startswith("http")
    assert sub["hosted_payment"]["return_url"] == "https://asso.example.org/thanks"
    assert sub["hosted_payment"]["cancel_url"] == "https://asso.example.org/ko"
    assert sub["notification"] == {"url": "https://asso.example.org/ipn", "response_code": None}
    row = Subscription.objects.get(public_id=sub["id"])
    assert row.merchant_id == merchant_a.pk and row.is_live is False and row.source == "api"


def test_optional_fields_are_taken(api, merchant_a):
    start = days_from_today(merchant_a, 10)

    sub = create_subscription(
        api, interval="year", interval_count=2, start_date=start, max_charges=3, description=None, metadata={}
    )

    assert (sub["interval"], sub["interval_count"], sub["start_date"]) == ("year", 2, start)
    assert sub["max_charges"] == 3 and sub["end_date"] is None and sub["description"] is None
    ending = create_subscription(api, end_date=days_from_today(merchant_a, 200))
    assert ending["end_date"] == days_from_today(merchant_a, 200) and ending["max_charges"] is None


def test_a_billing_address_needs_only_an_email(api):
    sub = create_subscription(api, billing={"email": "donor@example.org"})

    assert sub["billing"]["email"] == "donor@example.org"


def test_responses_and_errors_match_the_openapi_document(api, merchant_a):
    document = Document(load_document())
    created = document.check("post", "/v1/subscriptions", api.post("/v1/subscriptions", subscription_body()))
    sub_id = created["id"]

    document.check("get", "/v1/subscriptions/{subscription_id}", api.get(f"/v1/subscriptions/{sub_id}"))
    document.check("get", "/v1/subscriptions", api.get("/v1/subscriptions"))
    document.check("post", "/v1/subscriptions", api.post("/v1/subscriptions", subscription_body(amount="10")))
    document.check("get", "/v1/subscriptions", api.get("/v1/subscriptions", {"status": "late"}))
    document.check("get", "/v1/subscriptions/{subscription_id}", api.get("/v1/subscriptions/sub_unknown"))
    active = active_subscription(api)
    paused = api.patch(f"/v1/subscriptions/{active['id']}", {"paused": True})
    document.check("patch", "/v1/subscriptions/{subscription_id}", paused)
    clock = api.post(f"/v1/subscriptions/{active['id']}/test_clock", {"advance_days": 1})
    document.check("post", "/v1/subscriptions/{subscription_id}/test_clock", clock)
    canceled = document.check(
        "patch", "/v1/subscriptions/{subscription_id}", api.patch(f"/v1/subscriptions/{sub_id}", {"canceled": True})
    )
    assert canceled["status"] == "canceled"
    document.check(
        "patch",
        "/v1/subscriptions/{subscription_id}",
        api.patch(f"/v1/subscriptions/{sub_id}", {"paused": True}),
    )


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "1000", "amount: must be an integer."),
        ("amount", 10.5, "amount: must be an integer."),
        ("amount", True, "amount: must be an integer."),
        ("amount", 98, "amount: "),
        ("amount", 2_000_001, "amount: "),
        ("amount", 0, "amount: "),
        ("currency", "USD", "currency: only EUR is supported."),
        ("interval", "week", "interval: "),
        ("interval", 1, "interval: must be a string."),
        ("interval_count", 0, "interval_count: "),
        ("interval_count", 13, "interval_count: "),
        ("interval_count", "2", "interval_count: must be an integer."),
        ("max_charges", 0, "max_charges: "),
        ("max_charges", "3", "max_charges: must be an integer."),
        ("start_date", "2026-13-01", "start_date: must be a date (YYYY-MM-DD)."),
        ("start_date", "tomorrow", "start_date: must be a date (YYYY-MM-DD)."),
        ("start_date", 20270101, "start_date: must be a date (YYYY-MM-DD)."),
        ("end_date", "31/12/2027", "end_date: must be a date (YYYY-MM-DD)."),
        ("description", 42, "description: must be a string."),
        ("description", "x" * 256, "description: "),
        ("metadata", {"nested": {"a": 1}}, "metadata: nested: nested objects and arrays are not allowed."),
        ("notification_url", "ftp://asso.example.org/ipn", "notification_url: must be an absolute http"),
        ("hosted_payment", {"cancel_url": "https://asso.example.org/ko"}, "hosted_payment.return_url: "),
        ("billing", "donor@example.org", "billing."),
    ],
)
def test_each_field_is_validated(api, field, value, message):
    error = refused(api, subscription_body(**{field: value}))

    assert error["message"].startswith(message), error
    assert field in error["details"], error


def test_yearly_subscriptions_take_at_most_3_years_between_charges(api):
    error = refused(api, subscription_body(interval="year", interval_count=4))

    assert error["message"].startswith("interval_count: ") and set(error["details"]) == {"interval_count"}
    assert create_subscription(api, interval="year", interval_count=3)["interval_count"] == 3


def test_monthly_subscriptions_take_up_to_12_months_between_charges(api):
    assert create_subscription(api, interval_count=12)["interval_count"] == 12


@pytest.mark.parametrize("start", [-1, 366])
def test_the_start_date_is_today_to_a_year_ahead(api, merchant_a, start):
    error = refused(api, subscription_body(start_date=days_from_today(merchant_a, start)))

    assert error["message"].startswith("start_date: ") and set(error["details"]) == {"start_date"}


def test_the_end_date_comes_after_the_start_date(api, merchant_a):
    start = days_from_today(merchant_a, 10)

    error = refused(api, subscription_body(start_date=start, end_date=start))

    assert error["message"].startswith("end_date: ") and set(error["details"]) == {"end_date"}


def test_end_date_and_max_charges_do_not_go_together(api, merchant_a):
    error = refused(api, subscription_body(end_date=days_from_today(merchant_a, 100), max_charges=3))

    assert set(error["details"]) & {"end_date", "max_charges"}


def test_the_billing_email_is_required(api):
    no_email = {key: value for key, value in BILLING.items() if key != "email"}

    error = refused(api, subscription_body(billing=no_email))

    assert error["message"] == "billing.email: is required."
    assert error["details"] == {"billing": {"email": "is required."}}
    assert refused(api, subscription_body(billing={**BILLING, "email": "not-an-email"}))["details"] == {
        "billing": {"email": "must be a valid email address."}
    }


@pytest.mark.parametrize("missing", ["amount", "currency", "interval", "billing", "hosted_payment"])
def test_required_fields(api, missing):
    body = subscription_body()
    del body[missing]

    error = refused(api, body)

    assert error["message"].startswith(f"{missing}: ") and set(error["details"]) == {missing}


def test_unknown_fields_are_refused(api):
    error = refused(api, subscription_body(frequency="monthly"))

    assert error["details"] == {"frequency": "is not a known field."}
    assert refused(api, subscription_body(billing={**BILLING, "zip": "75011"}))["details"] == {
        "billing": {"zip": "is not a known field."}
    }


def test_every_problem_of_the_body_is_named(api):
    body = subscription_body(currency="USD", amount="ten", extra=1)
    del body["hosted_payment"]

    error = refused(api, body)

    assert set(error["details"]) == {"currency", "amount", "extra", "hosted_payment"}


def test_a_body_that_is_not_json_is_refused(api):
    before = counts()
    response = api.client.post(
        "/v1/subscriptions",
        "amount=1000",
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.key}"},
    )

    assert response.status_code == 400 and response.json()["code"] == "invalid_json"
    assert counts() == before


def test_live_subscriptions_need_saved_cards_enabled(alice):
    merchant = factories.live_merchant("Live Asso", owner=alice)
    live = factories.ApiClient(factories.secret_key(merchant, is_live=True))

    response = live.post("/v1/subscriptions", subscription_body())

    assert response.status_code == 403 and response.json()["code"] == "feature_not_enabled"
    assert Subscription.objects.count() == 0


def test_live_notification_urls_must_be_https(alice):
    merchant = factories.live_merchant("Live Asso", owner=alice)
    merchant.live_save_card_enabled = True
    merchant.save()
    live = factories.ApiClient(factories.secret_key(merchant, is_live=True))

    response = live.post("/v1/subscriptions", subscription_body(notification_url="http://asso.example.org/ipn"))

    assert response.status_code == 400 and set(response.json()["details"]) == {"notification_url"}
    assert Subscription.objects.count() == 0


# --- idempotency ----------------------------------------------------------------------------------


def test_the_idempotency_key_replays_the_creation(api):
    headers = {"Idempotency-Key": "sub-1042"}

    first = api.post("/v1/subscriptions", subscription_body(), headers=headers)
    again = api.post("/v1/subscriptions", subscription_body(), headers=headers)

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert Subscription.objects.count() == 1
    other = api.post("/v1/subscriptions", subscription_body(amount=2000), headers=headers)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert Subscription.objects.count() == 1


def test_a_refused_creation_is_replayed_too(api):
    headers = {"Idempotency-Key": "sub-bad"}

    first = api.post("/v1/subscriptions", subscription_body(interval="week"), headers=headers)
    again = api.post("/v1/subscriptions", subscription_body(interval="week"), headers=headers)

    assert first.status_code == again.status_code == 400
    assert again["Idempotent-Replayed"] == "true" and again.json()["details"] == first.json()["details"]


# --- list -----------------------------------------------------------------------------------------


def test_the_list_is_newest_first_and_paginated_like_payments(api):
    ids = [create_subscription(api, amount=1000 + n)["id"] for n in range(3)]

    first = api.get("/v1/subscriptions", {"per_page": 2}).json()
    second = api.get("/v1/subscriptions", {"per_page": 2, "page": 1}).json()

    assert {key: first[key] for key in ("object", "type", "page", "per_page", "count", "has_more")} == {
        "object": "list",
        "type": "list",
        "page": 0,
        "per_page": 2,
        "count": 2,
        "has_more": True,
    }
    assert [item["id"] for item in first["data"]] == [ids[2], ids[1]]
    assert [item["id"] for item in second["data"]] == [ids[0]] and second["has_more"] is False
    assert set(first["data"][0]) == OBJECT_KEYS
    assert api.get("/v1/subscriptions").json()["per_page"] == 10


@pytest.mark.parametrize(("name", "value"), [("per_page", "0"), ("per_page", "101"), ("page", "-1"), ("page", "x")])
def test_bad_paging_parameters_are_refused(api, name, value):
    response = api.get("/v1/subscriptions", {name: value})

    assert response.status_code == 400 and set(response.json()["details"]) == {name}


def test_the_list_filters_by_status(api):
    kept = create_subscription(api)
    canceled = create_subscription(api)
    api.patch(f"/v1/subscriptions/{canceled['id']}", {"canceled": True})

    only_canceled = api.get("/v1/subscriptions", {"status": "canceled"}).json()
    only_incomplete = api.get("/v1/subscriptions", {"status": "incomplete"}).json()

    assert [item["id"] for item in only_canceled["data"]] == [canceled["id"]]
    assert [item["id"] for item in only_incomplete["data"]] == [kept["id"]]
    assert api.get("/v1/subscriptions", {"status": "ended"}).json()["data"] == []
    assert len(api.get("/v1/subscriptions", {"status": ""}).json()["data"]) == 2


def test_an_unknown_status_filter_is_refused(api):
    create_subscription(api)

    response = api.get("/v1/subscriptions", {"status": "late"})

    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid_request" and error["message"].startswith("status: must be one of: ")
    assert set(error["details"]) == {"status"} and "past_due" in error["details"]["status"]


# --- tenancy --------------------------------------------------------------------------------------


def test_another_merchant_s_subscription_is_not_found(api, api_b):
    sub = create_subscription(api)

    for response in (
        api_b.get(f"/v1/subscriptions/{sub['id']}"),
        api_b.patch(f"/v1/subscriptions/{sub['id']}", {"canceled": True}),
        api_b.post(f"/v1/subscriptions/{sub['id']}/test_clock", {"advance_days": 30}),
    ):
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert api_b.get("/v1/subscriptions").json()["data"] == []
    row = Subscription.objects.get(public_id=sub["id"])
    assert row.status == Subscription.Status.INCOMPLETE and row.clock_offset == timedelta(0)
    assert api.get("/v1/subscriptions/sub_doesnotexist000000000000").status_code == 404


def test_a_live_key_cannot_see_test_subscriptions(alice):
    merchant = factories.live_merchant("Live Asso", owner=alice)
    test = factories.ApiClient(factories.secret_key(merchant))
    live = factories.ApiClient(factories.secret_key(merchant, is_live=True))
    sub = create_subscription(test)

    assert live.get(f"/v1/subscriptions/{sub['id']}").status_code == 404
    assert live.patch(f"/v1/subscriptions/{sub['id']}", {"canceled": True}).status_code == 404
    assert live.get("/v1/subscriptions").json()["data"] == []
    assert test.get(f"/v1/subscriptions/{sub['id']}").json()["status"] == "incomplete"


def test_a_publishable_key_is_refused(merchant_a):
    public = factories.ApiClient(factories.publishable_key(merchant_a))

    response = public.post("/v1/subscriptions", subscription_body())

    assert response.status_code == 403 and response.json()["code"] == "publishable_key_not_allowed"
    assert Subscription.objects.count() == 0


# --- pause, resume, cancel ------------------------------------------------------------------------


def test_pause_resume_and_cancel_through_patch(api):
    sub = active_subscription(api)
    path = f"/v1/subscriptions/{sub['id']}"

    paused = api.patch(path, {"paused": True})
    assert paused.status_code == 200, paused.content
    assert paused.json()["status"] == "paused" and paused.json()["paused_at"]

    resumed = api.patch(path, {"paused": False}).json()
    assert resumed["status"] == "active"

    canceled = api.patch(path, {"canceled": True}).json()
    assert canceled["status"] == "canceled" and canceled["canceled_by"] == "api" and canceled["canceled_at"]
    assert api.get(path).json()["status"] == "canceled"


def test_pausing_a_canceled_subscription_is_refused(api):
    sub = active_subscription(api)
    path = f"/v1/subscriptions/{sub['id']}"
    canceled = api.patch(path, {"canceled": True}).json()

    for body, code in (({"paused": True}, "subscription_not_active"), ({"paused": False}, "subscription_not_paused")):
        response = api.patch(path, body)
        assert response.status_code == 400, response.content
        assert response.json()["code"] == code
    assert api.get(path).json() == canceled


def test_canceling_twice_answers_the_canceled_subscription(api):
    sub = create_subscription(api)
    path = f"/v1/subscriptions/{sub['id']}"
    first = api.patch(path, {"canceled": True}).json()

    again = api.patch(path, {"canceled": True})

    assert again.status_code == 200 and again.json() == first


def test_an_incomplete_subscription_cannot_be_paused(api):
    sub = create_subscription(api)

    response = api.patch(f"/v1/subscriptions/{sub['id']}", {"paused": True})

    assert response.status_code == 400 and response.json()["code"] == "subscription_not_active"
    assert Subscription.objects.get(public_id=sub["id"]).status == Subscription.Status.INCOMPLETE


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"paused": True, "canceled": True}, "non_field_errors"),
        ({"paused": "yes"}, "paused"),
        ({"paused": None}, "paused"),
        ({"canceled": False}, "canceled"),
        ({"status": "paused"}, "status"),
        ({"amount": 2000}, "amount"),
    ],
)
def test_the_only_changes_are_paused_and_canceled(api, body, field):
    sub = active_subscription(api)

    response = api.patch(f"/v1/subscriptions/{sub['id']}", body)

    assert response.status_code == 400, response.content
    error = response.json()
    assert error["code"] == "invalid_request" and field in error["details"], error
    assert error["message"].startswith(f"{field}: ")
    assert api.get(f"/v1/subscriptions/{sub['id']}").json() == sub


def test_the_idempotency_key_replays_a_change(api):
    sub = active_subscription(api)
    path = f"/v1/subscriptions/{sub['id']}"
    headers = {"Idempotency-Key": "pause-1"}

    first = api.patch(path, {"paused": True}, headers=headers)
    api.patch(path, {"paused": False})
    again = api.patch(path, {"paused": True}, headers=headers)

    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert api.get(path).json()["status"] == "active"  # replayed, not paused again


# --- test clock -----------------------------------------------------------------------------------


def test_the_test_clock_charges_the_second_period_after_a_paid_first_one(api, merchant_a):
    sub = active_subscription(api)
    assert sub["paid_charges"] == 1 and sub["activated_at"] and sub["card"]["last4"] == "4242"
    assert sub["consent"]["text"] and sub["consent"]["given_at"]
    assert sub["hosted_payment"]["payment_url"] is None
    first_ids = list(sub["payment_ids"])
    due = date.fromisoformat(sub["next_charge_date"])
    days = (due - today(merchant_a)).days
    assert 28 <= days <= 31

    early = advance(api, sub["id"], days - 1)
    assert early["paid_charges"] == 1 and early["payment_ids"] == first_ids

    charged = advance(api, sub["id"], 1)
    assert charged["status"] == "active" and charged["paid_charges"] == 2
    assert charged["payment_ids"][: len(first_ids)] == first_ids and len(charged["payment_ids"]) == len(first_ids) + 1
    second = api.get(f"/v1/payments/{charged['payment_ids'][-1]}").json()
    assert second["is_paid"] is True and second["amount"] == 1000
    assert second["card"]["id"] == charged["card"]["id"]
    assert date.fromisoformat(charged["next_charge_date"]) > due


def test_a_later_start_checks_the_card_and_charges_on_the_start_date(api, merchant_a):
    start = days_from_today(merchant_a, 10)
    sub = create_subscription(api, start_date=start)
    assert sub["status"] == "incomplete" and sub["hosted_payment"]["payment_url"]

    pay_first_page(sub)
    sub = api.get(f"/v1/subscriptions/{sub['id']}").json()
    assert sub["status"] == "active" and sub["paid_charges"] == 0 and sub["payment_ids"] == []
    assert sub["card"]["last4"] == "4242" and sub["next_charge_date"] == start

    sub = advance(api, sub["id"], 10)
    assert sub["paid_charges"] == 1 and len(sub["payment_ids"]) == 1
    assert api.get(f"/v1/payments/{sub['payment_ids'][0]}").json()["is_paid"] is True


def test_a_paused_subscription_is_not_charged_when_the_clock_passes(api, merchant_a):
    sub = active_subscription(api)
    api.patch(f"/v1/subscriptions/{sub['id']}", {"paused": True})

    later = advance(api, sub["id"], 40)

    assert later["status"] == "paused" and later["paid_charges"] == 1 and later["payment_ids"] == sub["payment_ids"]


@pytest.mark.parametrize("days", [0, -1, 367, "30", 1.5, None])
def test_the_test_clock_takes_1_to_366_days(api, days):
    sub = create_subscription(api)

    response = api.post(f"/v1/subscriptions/{sub['id']}/test_clock", {"advance_days": days})

    assert response.status_code == 400 and response.json()["message"].startswith("advance_days: ")
    assert Subscription.objects.get(public_id=sub["id"]).clock_offset == timedelta(0)


def test_the_test_clock_body_is_strict(api):
    sub = create_subscription(api)

    response = api.post(f"/v1/subscriptions/{sub['id']}/test_clock", {"advance_days": 1, "hours": 2})

    assert response.status_code == 400 and response.json()["details"] == {"hours": "is not a known field."}


def test_the_test_clock_is_refused_in_live_mode(alice):
    merchant = factories.live_merchant("Live Asso", owner=alice)
    merchant.live_save_card_enabled = True
    merchant.save()
    live = factories.ApiClient(factories.secret_key(merchant, is_live=True))
    response = live.post("/v1/subscriptions", subscription_body())
    assert response.status_code == 201, response.content
    sub = response.json()
    assert sub["is_live"] is True

    refused_clock = live.post(f"/v1/subscriptions/{sub['id']}/test_clock", {"advance_days": 30})

    assert refused_clock.status_code == 403 and refused_clock.json()["code"] == "feature_not_enabled"
    assert Subscription.objects.get(public_id=sub["id"]).clock_offset == timedelta(0)
