"""Customers and saved cards through the official SDK, and one-click payments with a saved card."""

import pytest

pytestmark = pytest.mark.compat

CUSTOMER = "payplug.resources.Customer"
CARD = "payplug.resources.Card"
COLLECTION = "payplug.resources.APIResourceCollection"
BAD_REQUEST = "payplug.exceptions.BadRequest"
NOT_FOUND = "payplug.exceptions.NotFound"


def test_customer_life_cycle(sdk, secret_key):
    out = sdk.run("customers", secret_key)

    created = out["created"]
    assert created["_class"] == CUSTOMER
    assert created["id"].startswith("cus_")
    assert created["object"] == "customer"
    assert created["email"] == "jeanne.martin@example.org"
    assert created["city"] == "Paris"
    assert created["country"] == "FR"
    assert created["metadata"] == {"crm_id": 1234}
    assert out["retrieved"] == created

    updated = out["updated"]
    assert updated["_class"] == CUSTOMER
    assert updated["first_name"] == "Jeannette"
    assert updated["city"] is None  # null clears an optional field
    assert updated["postcode"] == "75011"  # untouched
    assert updated["metadata"] == {"crm_id": 99}  # replaced as a whole
    assert out["updated_by_resource"]["last_name"] == "Durand"
    assert out["updated_by_resource"]["first_name"] == "Jeannette"
    assert out["retrieved_after_update"] == out["updated_by_resource"]

    invalid = out["invalid"]
    assert invalid["_error"] == BAD_REQUEST
    assert invalid["error_object"]["code"] == "invalid_request"
    assert "email" in invalid["error_object"]["details"]

    second_id = out["second"]["id"]
    listed = out["listed"]
    assert listed["_class"] == COLLECTION
    assert [c["id"] for c in listed["data"]] == [second_id, created["id"]]
    assert all(c["_class"] == CUSTOMER for c in listed["data"])
    assert [c["id"] for c in out["listed_page_0"]["data"]] == [second_id]
    assert out["listed_page_0"]["has_more"] is True
    assert [c["id"] for c in out["listed_page_1"]["data"]] == [created["id"]]

    # Customer.delete and customer.delete() return nothing, and the 200 JSON body parses.
    assert out["deleted"] is None
    assert out["deleted_by_resource"] is None
    assert out["retrieve_deleted"]["_error"] == NOT_FOUND
    assert out["retrieve_deleted"]["error_object"]["code"] == "not_found"
    assert out["update_deleted"]["_error"] == NOT_FOUND
    assert out["delete_deleted"]["_error"] == NOT_FOUND
    assert out["listed_after_delete"]["data"] == []


def test_saved_cards_and_one_click(sdk, secret_key):
    out = sdk.run("cards_and_one_click", secret_key)
    customer_id = out["customer"]["id"]

    assert out["save_page"]["where"] == "result"
    saving = out["saving_payment"]
    assert saving["is_paid"] is True
    assert saving["save_card"] is True
    card_id = saving["card"]["id"]
    assert card_id.startswith("card_")
    assert saving["card"]["last4"] == "4242"
    second_card_id = out["second_card_id"]
    assert second_card_id.startswith("card_") and second_card_id != card_id

    listed = out["listed"]
    assert listed["_class"] == COLLECTION
    assert {c["id"] for c in listed["data"]} == {card_id, second_card_id}
    assert all(c["_class"] == CARD for c in listed["data"])
    by_resource = out["listed_by_resource"]
    assert len(by_resource["data"]) == 1 and by_resource["has_more"] is True

    card = out["retrieved"]
    assert card["_class"] == CARD
    assert card["id"] == card_id
    assert card["object"] == "card"
    assert card["customer_id"] == customer_id
    assert card["last4"] == "4242"
    assert card["brand"] == "Visa"
    assert card["exp_month"] == 12
    assert isinstance(card["exp_year"], int) and card["exp_year"] > 2000

    for initiator in ("payer", "merchant"):
        created, settled = out[f"{initiator}_created"], out[f"{initiator}_settled"]
        assert created["_class"] == "payplug.resources.Payment"
        assert created["amount"] == 2500
        assert settled["is_paid"] is True, settled
        assert settled["failure"] is None
        assert settled["card"]["id"] == card_id
        assert settled["card"]["last4"] == "4242"
    assert out["merchant_created"]["hosted_payment"]["payment_url"] is None

    assert out["without_initiator"]["_error"] == BAD_REQUEST
    assert "initiator" in out["without_initiator"]["error_object"]["details"]

    assert out["deleted"] is None
    assert out["retrieve_deleted"]["_error"] == NOT_FOUND
    refused = out["pay_with_deleted"]
    assert refused["_error"] == BAD_REQUEST
    assert "payment_method" in refused["error_object"]["details"]

    assert out["second_retrieved"]["customer_id"] == customer_id
    assert out["second_retrieved"]["brand"] == "Mastercard"
    assert out["second_deleted"] is None  # Card.delete() through the card's own customer_id
    assert out["listed_after_delete"]["data"] == []

    attached = out["attached"]  # Card.create: a card saved without a customer, attached to one
    assert attached["_class"] == CARD
    assert attached["id"] == out["loose_card_id"]
    assert attached["customer_id"] == customer_id
    assert attached["metadata"] == {"label": "pro"}
    assert out["attached_retrieved"] == attached
    assert out["attach_to_other"]["_error"] == BAD_REQUEST
    assert out["raw_card"]["_error"] == BAD_REQUEST
    assert out["cards_of_other"]["data"] == []

    assert out["unknown_card"]["_error"] == NOT_FOUND
    assert out["cards_of_unknown_customer"]["_error"] == NOT_FOUND
