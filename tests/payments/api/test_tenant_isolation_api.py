"""A merchant never sees or changes another merchant's objects, nor its own other mode's (spec §2)."""

import pytest

from payments.models import Payment
from tests.payments.helpers import create_payment, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def a_objects(api):
    payment = create_payment(api, save_card=True)
    pay(payment)
    customer = api.post("/v1/customers", {"email": "c@example.org"}).json()
    payment = api.get(f"/v1/payments/{payment['id']}").json()
    refund = api.post(f"/v1/payments/{payment['id']}/refunds", {"amount": 100}).json()
    return {"payment": payment, "customer": customer, "card": payment["card"], "refund": refund}


def test_b_cannot_read_a_objects(api_b, a_objects):
    p, c, card, r = a_objects["payment"], a_objects["customer"], a_objects["card"], a_objects["refund"]
    for path in (
        f"/v1/payments/{p['id']}",
        f"/v1/payments/{p['id']}/refunds",
        f"/v1/payments/{p['id']}/refunds/{r['id']}",
        f"/v1/customers/{c['id']}",
        f"/v1/customers/{c['id']}/cards",
        f"/v1/cards/{card['id']}",
    ):
        response = api_b.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"


def test_b_cannot_change_a_objects(api_b, a_objects):
    p, c, card = a_objects["payment"], a_objects["customer"], a_objects["card"]
    assert api_b.patch(f"/v1/payments/{p['id']}", {"abort": True}).status_code == 404
    assert api_b.post(f"/v1/payments/{p['id']}/refunds", {"amount": 100}).status_code == 404
    assert api_b.patch(f"/v1/customers/{c['id']}", {"city": "X"}).status_code == 404
    assert api_b.delete(f"/v1/customers/{c['id']}").status_code == 404
    assert api_b.delete(f"/v1/cards/{card['id']}").status_code == 404
    assert (
        api_b.post(
            "/v1/payments",
            {
                "amount": 1000,
                "currency": "EUR",
                "payment_method": card["id"],
                "initiator": "MERCHANT",
                "billing": {"first_name": "a", "last_name": "b", "email": "x@example.org"},
            },
        ).status_code
        == 400
    )


def test_b_lists_never_contain_a_objects(api_b, a_objects):
    assert api_b.get("/v1/payments").json()["data"] == []
    assert api_b.get("/v1/customers").json()["data"] == []


def test_lists_and_reads_are_scoped_by_mode(api, a_objects, merchant_a):
    Payment.objects.filter(public_id=a_objects["payment"]["id"]).update(is_live=True)
    assert api.get(f"/v1/payments/{a_objects['payment']['id']}").status_code == 404
    assert a_objects["payment"]["id"] not in [p["id"] for p in api.get("/v1/payments").json()["data"]]


def test_a_and_b_states_are_unchanged_after_b_attempts(api, api_b, a_objects):
    before = api.get(f"/v1/payments/{a_objects['payment']['id']}").json()
    api_b.patch(f"/v1/payments/{a_objects['payment']['id']}", {"abort": True})
    after = api.get(f"/v1/payments/{a_objects['payment']['id']}").json()
    assert before == after
