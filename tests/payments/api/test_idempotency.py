"""Idempotency-Key (spec §4)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from payments.idempotency import purge_expired
from payments.models import IdempotencyRecord, Payment, Refund
from tests.payments.helpers import create_payment, pay, payment_body

pytestmark = pytest.mark.django_db


def test_same_key_and_body_replays_the_first_answer(api):
    first = api.post("/v1/payments", payment_body(), headers={"Idempotency-Key": "order-42"})
    second = api.post("/v1/payments", payment_body(), headers={"Idempotency-Key": "order-42"})

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1


def test_key_order_in_the_body_does_not_matter(api):
    body = payment_body()
    api.post("/v1/payments", body, headers={"Idempotency-Key": "k1"})
    reordered = dict(reversed(list(body.items())))
    assert api.post("/v1/payments", reordered, headers={"Idempotency-Key": "k1"}).status_code == 201
    assert Payment.objects.count() == 1


def test_same_key_with_another_body_is_409(api):
    api.post("/v1/payments", payment_body(), headers={"Idempotency-Key": "order-43"})
    response = api.post("/v1/payments", payment_body(amount=5000), headers={"Idempotency-Key": "order-43"})

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert Payment.objects.count() == 1


def test_a_key_in_flight_is_409_in_use(api, merchant_a):
    IdempotencyRecord.objects.create(
        merchant=merchant_a, is_live=False, key="busy", request_hash="will-not-match-anyway"
    )
    response = api.post("/v1/payments", payment_body(), headers={"Idempotency-Key": "busy"})
    assert response.status_code == 409


def test_errors_are_replayed_too(api):
    first = api.post("/v1/payments", payment_body(currency="USD"), headers={"Idempotency-Key": "bad"})
    second = api.post("/v1/payments", payment_body(currency="USD"), headers={"Idempotency-Key": "bad"})
    assert first.status_code == second.status_code == 400
    assert second["Idempotent-Replayed"] == "true"


def test_keys_are_scoped_by_merchant(api, api_b):
    api.post("/v1/payments", payment_body(), headers={"Idempotency-Key": "shared"})
    other = api_b.post("/v1/payments", payment_body(amount=999), headers={"Idempotency-Key": "shared"})
    assert other.status_code == 201
    assert Payment.objects.count() == 2


def test_a_retried_refund_refunds_once(api):
    payment = create_payment(api)
    pay(payment)
    for _ in range(3):
        response = api.post(
            f"/v1/payments/{payment['id']}/refunds", {"amount": 1000}, headers={"Idempotency-Key": "refund-1"}
        )
        assert response.status_code == 201
    assert Refund.objects.count() == 1


def test_invalid_key_is_400(api):
    response = api.post("/v1/payments", payment_body(), headers={"Idempotency-Key": "x" * 256})
    assert response.status_code == 400
    assert not Payment.objects.exists()


def test_purge_keeps_keys_for_at_least_24_hours(api, merchant_a):
    api.post("/v1/payments", payment_body(), headers={"Idempotency-Key": "recent"})
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    purge_expired()
    assert IdempotencyRecord.objects.count() == 1
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=49))
    purge_expired()
    assert IdempotencyRecord.objects.count() == 0
