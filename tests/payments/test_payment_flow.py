"""A payment's life cycle through the API and the hosted page, on the sandbox acquirer."""

import pytest

from payments import services
from payments.models import Payment

from .helpers import answer_3ds, create_payment, pay, payment_body

pytestmark = pytest.mark.django_db


def test_create_answers_201_with_a_hosted_page(api):
    payment = create_payment(api)

    assert payment["object"] == "payment"
    assert payment["id"].startswith("pay_")
    assert payment["is_paid"] is False
    assert payment["is_live"] is False
    assert payment["failure"] is None
    assert payment["hosted_payment"]["payment_url"].startswith("http")
    assert payment["id"] not in payment["hosted_payment"]["payment_url"]
    assert payment["metadata"] == {"order_id": "42"}


def test_success_card_pays(api):
    payment = create_payment(api)

    response = pay(payment)

    assert response.status_code == 200
    body = api.get(f"/v1/payments/{payment['id']}").json()
    assert body["is_paid"] is True
    assert body["paid_at"] is not None
    assert body["card"]["last4"] == "4242"
    assert body["card"]["brand"] == "Visa"
    assert body["hosted_payment"]["paid_at"] is not None
    assert body["refundable_after"] == body["paid_at"]


def test_declined_card_sets_failure_and_stays_payable(api):
    payment = create_payment(api)

    pay(payment, number="4000 0000 0000 9995")

    body = api.get(f"/v1/payments/{payment['id']}").json()
    assert body["is_paid"] is False
    assert body["failure"]["code"] == "card_declined"
    assert "insufficient funds" in body["failure"]["message"]
    assert Payment.objects.get(public_id=payment["id"]).status == Payment.Status.CREATED


def test_third_failure_is_final(api):
    payment = create_payment(api)
    for _ in range(3):
        pay(payment, number="4000 0000 0000 0002")

    assert Payment.objects.get(public_id=payment["id"]).status == Payment.Status.FAILED
    response = pay(payment)
    assert api.get(f"/v1/payments/{payment['id']}").json()["is_paid"] is False
    assert response.status_code == 200


def test_retry_after_failure_can_succeed_and_clears_failure(api):
    payment = create_payment(api)
    pay(payment, number="4000 0000 0000 0002")
    pay(payment)

    body = api.get(f"/v1/payments/{payment['id']}").json()
    assert body["is_paid"] is True
    assert body["failure"] is None


def test_luhn_failure_is_a_form_error_and_changes_nothing(api):
    payment = create_payment(api)

    response = pay(payment, number="4242 4242 4242 4241")

    assert response.status_code == 400
    assert "not valid" in response.content.decode() or "pas valide" in response.content.decode()
    body = api.get(f"/v1/payments/{payment['id']}").json()
    assert body["failure"] is None
    assert not Payment.objects.get(public_id=payment["id"]).attempts.exists()


def test_3ds_approve_pays(api):
    payment = create_payment(api)
    response = pay(payment, number="4000 0025 0000 3155")
    assert b'value="approve"' in response.content

    answer_3ds(payment, "approve")

    body = api.get(f"/v1/payments/{payment['id']}").json()
    assert body["is_paid"] is True
    assert body["is_3ds"] is True


def test_3ds_fail_declines(api):
    payment = create_payment(api)
    pay(payment, number="4000 0025 0000 3155")

    answer_3ds(payment, "fail")

    body = api.get(f"/v1/payments/{payment['id']}").json()
    assert body["is_paid"] is False
    assert body["failure"]["code"] == "3ds_declined"
    assert body["is_3ds"] is True


def test_frictionless_3ds_pays_without_challenge(api):
    payment = create_payment(api)
    pay(payment, number="4000 0000 0000 3220")

    body = api.get(f"/v1/payments/{payment['id']}").json()
    assert body["is_paid"] is True
    assert body["is_3ds"] is True


def test_fraud_card_is_refused_after_authorisation(api):
    payment = create_payment(api)
    pay(payment, number="4100 0000 0000 0019")

    body = api.get(f"/v1/payments/{payment['id']}").json()
    assert body["is_paid"] is False
    assert body["failure"]["code"] == "fraud_suspected"


def test_amex_is_method_unsupported_and_leaves_card_empty(api):
    payment = create_payment(api)
    pay(payment, number="3782 822463 10005", cvc="1234")

    body = api.get(f"/v1/payments/{payment['id']}").json()
    assert body["failure"]["code"] == "method_unsupported"
    assert body["card"]["last4"] is None


def test_timeout_stays_pending_until_reconciliation(api):
    payment = create_payment(api)
    pay(payment, number="4000 0000 0000 0077")
    assert Payment.objects.get(public_id=payment["id"]).status == Payment.Status.PENDING
    assert api.get(f"/v1/payments/{payment['id']}").json()["is_paid"] is False

    services.reconcile_pending(older_than_seconds=-1)

    assert api.get(f"/v1/payments/{payment['id']}").json()["is_paid"] is True


def test_deferred_payment_authorizes_then_captures(api):
    payment = api.post("/v1/payments", {k: v for k, v in create_body(authorized_amount=5000).items()}).json()
    assert payment["authorization"] == {"authorized_amount": 5000, "authorized_at": None, "expires_at": None}
    pay(payment)

    body = api.get(f"/v1/payments/{payment['id']}").json()
    assert body["is_paid"] is False
    assert body["authorization"]["authorized_at"] is not None
    assert body["authorization"]["expires_at"] == body["authorization"]["authorized_at"] + 7 * 86400

    captured = api.patch(f"/v1/payments/{payment['id']}", {"captured": True})
    assert captured.status_code == 200
    assert captured.json()["is_paid"] is True


def create_body(**overrides):
    body = payment_body()
    body.pop("amount")
    body.update(overrides)
    return body
