"""Refunds through the official SDK: partial with metadata, the remaining amount, retrieve, list, refusals."""

import pytest

pytestmark = pytest.mark.compat

REFUND = "payplug.resources.Refund"
BAD_REQUEST = "payplug.exceptions.BadRequest"
NOT_FOUND = "payplug.exceptions.NotFound"


def test_refund_life_cycle(sdk, secret_key):
    out = sdk.run("refunds", secret_key)
    payment_id = out["paid"]["id"]
    assert out["paid"]["is_paid"] is True

    partial = out["partial"]
    assert partial["_class"] == REFUND
    assert partial["id"].startswith("re_")
    assert partial["object"] == "refund"
    assert partial["payment_id"] == payment_id
    assert partial["amount"] == 1000
    assert partial["currency"] == "EUR"
    assert partial["metadata"] == {"reason": "damaged", "ticket": 7}
    assert partial["is_live"] is False
    assert isinstance(partial["created_at"], int)

    too_large = out["too_large"]
    assert too_large["_error"] == BAD_REQUEST
    assert too_large["error_object"]["code"] == "refund_exceeds_remaining"
    assert too_large["error_object"]["message"].startswith("amount: ")

    assert out["retrieved"] == partial
    assert out["after_partial"]["amount_refunded"] == 1000
    assert out["after_partial"]["is_refunded"] is False

    rest = out["rest"]  # Refund.create without amount: the whole remaining amount
    assert rest["_class"] == REFUND
    assert rest["amount"] == 2300
    assert rest["metadata"] == {}

    listed = out["listed"]
    assert listed["_class"] == "payplug.resources.APIResourceCollection"
    assert [r["id"] for r in listed["data"]] == [rest["id"], partial["id"]]
    assert all(r["_class"] == REFUND for r in listed["data"])
    assert out["listed_from_payment"]["data"] == listed["data"]

    after = out["after_full"]
    assert after["amount_refunded"] == 3300
    assert after["is_refunded"] is True

    assert out["one_more"]["_error"] == BAD_REQUEST
    assert out["one_more"]["error_object"]["code"] == "refund_exceeds_remaining"
    assert out["unknown_refund"]["_error"] == NOT_FOUND
    assert out["refund_of_unknown_payment"]["_error"] == NOT_FOUND
