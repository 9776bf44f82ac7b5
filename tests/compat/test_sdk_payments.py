"""Payments through the official SDK: create, retrieve, pay on the hosted page, list, abort, capture."""

import pytest

from tests.compat.conftest import REPO_ROOT

pytestmark = pytest.mark.compat

PAYMENT = "payplug.resources.Payment"
BAD_REQUEST = "payplug.exceptions.BadRequest"


def test_the_driver_runs_the_pypi_sdk_not_our_package(sdk, secret_key, base_url):
    identity = sdk.run("sdk_identity", secret_key)

    assert identity["version"] == "1.4.0"
    assert not identity["file"].startswith(str(REPO_ROOT / "payplug"))
    assert identity["api_base_url"] == base_url
    assert base_url.startswith("http://")  # plain HTTP: the SDK's CA bundle only matters for https


def test_create_retrieve_pay_on_the_hosted_page(sdk, secret_key, base_url):
    out = sdk.run("payment_lifecycle", secret_key)

    created = out["created"]
    assert created["_class"] == PAYMENT
    assert created["id"].startswith("pay_")
    assert created["object"] == "payment"
    assert created["is_live"] is False
    assert created["amount"] == 3300
    assert created["currency"] == "EUR"
    assert created["is_paid"] is False
    assert created["failure"] is None
    assert created["metadata"] == {"order_id": "42", "customer_ref": 42710}
    assert created["description"] == "Commande n°42 — été"  # UTF-8 both ways
    # Nested objects become the SDK's own classes.
    assert created["hosted_payment"]["_class"] == "payplug.resources.Payment.HostedPayment"
    assert created["hosted_payment"]["payment_url"].startswith(base_url + "/pay/")
    assert created["hosted_payment"]["return_url"] == "https://shop.example.org/ok?order=42"
    assert created["billing"]["_class"] == "payplug.resources.Payment.Billing"
    assert created["billing"]["email"] == "jeanne.martin@example.org"
    assert created["shipping"]["_class"] == "payplug.resources.Payment.Shipping"
    assert created["shipping"]["delivery_type"] == "BILLING"
    assert created["notification"]["_class"] == "payplug.resources.Payment.Notification"
    assert created["notification"]["url"] == "https://shop.example.org/ipn"
    assert created["card"]["_class"] == "payplug.resources.Payment.Card"
    assert created["card"]["last4"] is None

    assert out["retrieved"] == created

    assert out["declined_page"]["where"] == "result"
    declined = out["after_decline"]
    assert declined["is_paid"] is False
    assert declined["failure"]["_class"] == "payplug.resources.Payment.Failure"
    assert declined["failure"]["code"] == "card_declined"

    assert out["paid_page"]["where"] == "result"
    assert out["paid_page"]["redirects"] == [303]  # post/redirect/get
    paid = out["paid"]
    assert paid["is_paid"] is True
    assert paid["failure"] is None
    assert isinstance(paid["paid_at"], int)
    assert paid["card"]["last4"] == "4242"
    assert paid["card"]["brand"] == "Visa"
    assert paid["card"]["exp_month"] == 12
    assert paid["hosted_payment"]["paid_at"] == paid["paid_at"]
    assert paid["refundable_after"] == paid["paid_at"]
    assert paid["is_refunded"] is False and paid["amount_refunded"] == 0

    # Opening the page again shows the outcome and charges nothing.
    assert out["paid_again_page"]["form_shown"] is False
    assert out["final"]["paid_at"] == paid["paid_at"]

    assert out["billing_posted_back"]["_class"] == PAYMENT
    assert out["billing_posted_back"]["billing"] == created["billing"]


def test_the_sdk_readme_example(sdk, secret_key):
    out = sdk.run("readme_example", secret_key)

    created = out["created"]
    assert created["_class"] == PAYMENT
    assert created["billing"]["email"] == "john.watson@example.net"  # legacy `customer` stored as billing
    assert created["billing"]["last_name"] == "Watson"
    assert "customer" not in created
    assert created["metadata"] == {"customer_id": 42710}  # the number stays a number
    assert created["notification"]["url"] == "https://www.example.net/notifications?id=42710"
    assert out["paid"]["is_paid"] is True


def test_3ds_challenge_approve_and_fail(sdk, secret_key):
    out = sdk.run("payment_3ds", secret_key)

    assert out["approve_page"]["where"] == "result"
    assert out["approved"]["is_paid"] is True
    assert out["approved"]["is_3ds"] is True
    assert out["failed"]["is_paid"] is False
    assert out["failed"]["is_3ds"] is True
    assert out["failed"]["failure"]["code"] == "3ds_declined"


def test_list_payments_with_pagination(sdk, secret_key):
    out = sdk.run("payment_list", secret_key)
    newest_first = list(reversed(out["ids"]))

    default = out["default"]
    assert default["_class"] == "payplug.resources.APIResourceCollection"
    assert [p["id"] for p in default["data"]] == newest_first
    assert all(p["_class"] == PAYMENT for p in default["data"])
    assert default["page"] == 0 and default["per_page"] == 10 and default["has_more"] is False

    first = out["first_page"]
    assert [p["id"] for p in first["data"]] == newest_first[:2]
    assert first["per_page"] == 2 and first["count"] == 2 and first["has_more"] is True
    assert out["page_0_explicit"] == first

    second = out["second_page"]
    assert [p["id"] for p in second["data"]] == newest_first[2:]
    assert second["page"] == 1 and second["has_more"] is False

    assert out["past_the_end"]["data"] == []
    assert out["too_many"]["_error"] == BAD_REQUEST
    assert "per_page" in out["too_many"]["error_object"]["message"]


def test_abort_and_abort_of_a_paid_payment(sdk, secret_key):
    out = sdk.run("payment_abort", secret_key)

    aborted = out["aborted"]
    assert aborted["_class"] == PAYMENT
    assert aborted["is_paid"] is False
    assert aborted["failure"]["code"] == "aborted"
    assert out["aborted_again"] == aborted  # already aborted: 200, unchanged

    assert out["refund_unpaid"]["_error"] == BAD_REQUEST
    assert out["refund_unpaid"]["error_object"]["code"] == "payment_not_paid"

    assert out["shopper_after_abort"]["form_shown"] is False
    assert out["after_shopper"]["is_paid"] is False
    assert out["after_shopper"]["failure"]["code"] == "aborted"

    refused = out["abort_paid"]
    assert refused["_error"] == BAD_REQUEST
    assert refused["http_status"] == 400
    assert refused["error_object"]["object"] == "error"
    assert refused["error_object"]["code"] == "payment_already_paid"
    assert out["paid_after_abort"]["is_paid"] is True
    assert out["paid_after_abort"]["failure"] is None


def test_deferred_payment_authorized_then_captured(sdk, secret_key):
    out = sdk.run("deferred_capture", secret_key)

    created = out["created"]
    assert created["amount"] == 5000
    assert created["authorization"] == {"authorized_amount": 5000, "authorized_at": None, "expires_at": None}

    assert out["capture_too_early"]["_error"] == BAD_REQUEST
    assert out["capture_too_early"]["error_object"]["code"] == "payment_not_authorized"

    authorized = out["authorized"]
    assert authorized["is_paid"] is False
    assert authorized["failure"] is None
    assert authorized["authorization"]["authorized_at"] is not None
    assert authorized["authorization"]["expires_at"] == authorized["authorization"]["authorized_at"] + 7 * 86400
    assert authorized["hosted_payment"]["paid_at"] is not None

    captured = out["captured"]
    assert captured["_class"] == PAYMENT
    assert captured["is_paid"] is True
    assert isinstance(captured["paid_at"], int)
    assert out["retrieved"] == captured
    assert out["captured_again"] == captured  # already captured: 200, unchanged

    assert out["capture_immediate"]["_error"] == BAD_REQUEST
    assert out["capture_immediate"]["error_object"]["code"] == "payment_not_deferred"
