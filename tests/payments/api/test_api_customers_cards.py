"""Customers and saved cards (spec §9, §10), and one-click payments (§7.6)."""

import pytest

from payments.models import Card
from tests.payments.helpers import create_payment, pay

pytestmark = pytest.mark.django_db


def create_customer(api, **fields):
    response = api.post("/v1/customers", {"email": "paul@example.org", "first_name": "Paul", **fields})
    assert response.status_code == 201, response.content
    return response.json()


def saved_card(api, customer=None, number="4242 4242 4242 4242"):
    extra = {"save_card": True}
    if customer:
        extra["customer_id"] = customer["id"]
    payment = create_payment(api, **extra)
    pay(payment, number=number)
    return api.get(f"/v1/payments/{payment['id']}").json()["card"]


def test_customer_life_cycle(api):
    customer = create_customer(api, metadata={"crm": 7})
    assert customer["object"] == "customer" and customer["id"].startswith("cus_")

    updated = api.patch(f"/v1/customers/{customer['id']}", {"city": "Lyon", "first_name": None})
    assert updated.status_code == 200
    assert updated.json()["city"] == "Lyon" and updated.json()["first_name"] is None
    assert updated.json()["metadata"] == {"crm": 7}

    assert [c["id"] for c in api.get("/v1/customers").json()["data"]] == [customer["id"]]
    deleted = api.delete(f"/v1/customers/{customer['id']}")
    assert deleted.status_code == 200
    assert deleted.json() == {"id": customer["id"], "object": "customer", "deleted": True}
    assert api.get(f"/v1/customers/{customer['id']}").status_code == 404


def test_customer_email_is_required_and_valid(api):
    assert api.post("/v1/customers", {"first_name": "x"}).status_code == 400
    assert api.post("/v1/customers", {"email": "nope"}).json()["message"].startswith("email")


def test_a_paid_payment_with_save_card_saves_the_card_for_its_customer(api):
    customer = create_customer(api)
    card = saved_card(api, customer)

    assert card["id"].startswith("card_")
    listing = api.get(f"/v1/customers/{customer['id']}/cards").json()
    assert [c["id"] for c in listing["data"]] == [card["id"]]
    detail = api.get(f"/v1/customers/{customer['id']}/cards/{card['id']}").json()
    assert detail["last4"] == "4242" and detail["brand"] == "Visa" and detail["customer_id"] == customer["id"]


def test_a_failed_payment_saves_nothing(api):
    payment = create_payment(api, save_card=True)
    pay(payment, number="4000 0000 0000 0002")
    assert not Card.objects.exists()


def test_allow_save_card_needs_the_box_ticked(api):
    payment = create_payment(api, allow_save_card=True)
    pay(payment)
    assert not Card.objects.exists()
    ticked = create_payment(api, allow_save_card=True)
    pay(ticked, save_card="on")
    assert Card.objects.count() == 1


def test_one_click_payment_with_a_saved_card(api):
    card = saved_card(api)

    payment = create_payment(api, payment_method=card["id"], initiator="PAYER")

    assert payment["is_paid"] is True
    assert payment["card"]["id"] == card["id"]


def test_merchant_initiated_payment_has_no_hosted_page(api):
    card = saved_card(api)
    body = {
        "amount": 1500,
        "currency": "EUR",
        "payment_method": card["id"],
        "initiator": "MERCHANT",
        "billing": {"first_name": "A", "last_name": "B", "email": "a@example.org"},
    }
    payment = api.post("/v1/payments", body).json()
    assert payment["is_paid"] is True
    assert payment["hosted_payment"]["payment_url"] is None


def test_one_click_with_a_declining_card_fails_for_good(api):
    card = saved_card(api, number="4000 0000 0000 0002")  # not saved: it declines
    assert card["id"] is None


def test_deleted_card_cannot_pay(api):
    card = saved_card(api)
    assert api.delete(f"/v1/cards/{card['id']}").json() == {"id": card["id"], "object": "card", "deleted": True}
    response = api.post(
        "/v1/payments",
        {
            "amount": 1500,
            "currency": "EUR",
            "payment_method": card["id"],
            "initiator": "PAYER",
            "billing": {"first_name": "A", "last_name": "B", "email": "a@example.org"},
        },
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("payment_method")


def test_attach_a_card_saved_without_customer(api):
    card = saved_card(api)
    customer = create_customer(api)
    response = api.post(f"/v1/customers/{customer['id']}/cards", {"card": card["id"], "metadata": {"x": 1}})
    assert response.status_code == 201
    assert response.json()["customer_id"] == customer["id"]
    other = create_customer(api)
    refused = api.post(f"/v1/customers/{other['id']}/cards", {"card": card["id"]})
    assert refused.status_code == 400


def test_raw_card_numbers_cannot_be_attached(api):
    customer = create_customer(api)
    response = api.post(f"/v1/customers/{customer['id']}/cards", {"card": "card_x", "number": "4242424242424242"})
    assert response.status_code == 400
    assert "number" in response.json()["details"]


def test_deleting_a_customer_deletes_its_cards(api):
    customer = create_customer(api)
    card = saved_card(api, customer)
    api.delete(f"/v1/customers/{customer['id']}")
    assert api.get(f"/v1/cards/{card['id']}").status_code == 404
