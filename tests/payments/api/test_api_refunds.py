"""Refunds (spec §8): partial, total, limits, and nothing written on refusal."""

import pytest

from payments.models import Payment, Refund
from tests.payments.helpers import create_payment, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(api):
    payment = create_payment(api)
    pay(payment)
    return payment


def test_partial_then_total_refund(api, paid):
    first = api.post(f"/v1/payments/{paid['id']}/refunds", {"amount": 1000, "metadata": {"reason": "size"}})
    assert first.status_code == 201
    refund = first.json()
    assert refund["object"] == "refund" and refund["id"].startswith("re_")
    assert refund["payment_id"] == paid["id"] and refund["amount"] == 1000
    assert refund["metadata"] == {"reason": "size"}

    rest = api.post(f"/v1/payments/{paid['id']}/refunds")  # no body: the whole remaining amount
    assert rest.status_code == 201
    assert rest.json()["amount"] == 2300

    payment = api.get(f"/v1/payments/{paid['id']}").json()
    assert payment["amount_refunded"] == 3300
    assert payment["is_refunded"] is True


def test_refund_over_remaining_is_refused_and_writes_nothing(api, paid):
    response = api.post(f"/v1/payments/{paid['id']}/refunds", {"amount": 3301})
    assert response.status_code == 400
    assert response.json()["code"] == "refund_exceeds_remaining"
    assert not Refund.objects.exists()
    assert Payment.objects.get(public_id=paid["id"]).amount_refunded == 0


def test_refund_of_fully_refunded_payment_is_refused(api, paid):
    api.post(f"/v1/payments/{paid['id']}/refunds")
    response = api.post(f"/v1/payments/{paid['id']}/refunds", {"amount": 100})
    assert response.json()["code"] == "refund_exceeds_remaining"


def test_tiny_refund_is_refused_unless_it_is_the_remainder(api, paid):
    assert api.post(f"/v1/payments/{paid['id']}/refunds", {"amount": 9}).json()["code"] == "refund_amount_too_small"
    api.post(f"/v1/payments/{paid['id']}/refunds", {"amount": 3295})
    assert api.post(f"/v1/payments/{paid['id']}/refunds", {"amount": 5}).status_code == 201


def test_refund_of_unpaid_payment_is_refused(api):
    payment = create_payment(api)
    response = api.post(f"/v1/payments/{payment['id']}/refunds", {"amount": 100})
    assert response.json()["code"] == "payment_not_paid"


@pytest.mark.parametrize("amount", [0, -5, "100", 1.5])
def test_refund_amount_must_be_a_positive_integer(api, paid, amount):
    response = api.post(f"/v1/payments/{paid['id']}/refunds", {"amount": amount})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


def test_retrieve_and_list_refunds(api, paid):
    refund = api.post(f"/v1/payments/{paid['id']}/refunds", {"amount": 500}).json()
    assert api.get(f"/v1/payments/{paid['id']}/refunds/{refund['id']}").json() == refund
    listing = api.get(f"/v1/payments/{paid['id']}/refunds").json()
    assert listing["per_page"] == 100
    assert [r["id"] for r in listing["data"]] == [refund["id"]]


def test_refund_of_another_payment_is_404(api, paid):
    other = create_payment(api)
    pay(other)
    refund = api.post(f"/v1/payments/{paid['id']}/refunds", {"amount": 500}).json()
    assert api.get(f"/v1/payments/{other['id']}/refunds/{refund['id']}").status_code == 404
