"""`payplug.notifications.treat` on our notification bodies; authentication and not-found errors."""

import pytest

from merchants.models import ApiKey
from merchants.services.audit import Actor
from merchants.services.keys import roll_api_key
from tests import factories

pytestmark = pytest.mark.compat

PAYMENT = "payplug.resources.Payment"
REFUND = "payplug.resources.Refund"
BAD_REQUEST = "payplug.exceptions.BadRequest"
NOT_FOUND = "payplug.exceptions.NotFound"
UNAUTHORIZED = "payplug.exceptions.Unauthorized"
FORBIDDEN = "payplug.exceptions.Forbidden"


def test_treat_refetches_payments_and_refunds_from_notification_bodies(sdk, secret_key):
    out = sdk.run("notification_treat", secret_key)

    body = out["payment_body"]
    assert body["object"] == "payment" and body["is_paid"] is True
    treated = out["payment_treated"]
    assert treated["_class"] == PAYMENT
    assert treated["id"] == body["id"]
    assert treated["is_paid"] is True
    assert treated["card"]["last4"] == "4242"
    assert out["payment_treated_bytes"]["id"] == body["id"]

    refund_body = out["refund_body"]
    assert refund_body["object"] == "refund"
    refund = out["refund_treated"]
    assert refund["_class"] == REFUND
    assert refund["id"] == refund_body["id"]
    assert refund["payment_id"] == body["id"]
    assert refund["amount"] == 500
    assert refund["metadata"] == {"reason": "late"}

    forged = out["forged_treated"]  # what the server says, not what the body claimed
    assert forged["_class"] == PAYMENT
    assert forged["is_paid"] is False
    assert forged["amount"] == 3300

    assert out["unknown_id"]["_error"] == NOT_FOUND
    assert out["unknown_object"]["_error"] == "payplug.exceptions.UnknownAPIResource"
    assert out["malformed"]["_error"] == "payplug.exceptions.UnknownAPIResource"


def _revoked_key(merchant) -> str:
    raw = factories.secret_key(merchant)
    key = merchant.api_keys.get(prefix=raw[:12], kind=ApiKey.Kind.SECRET)
    roll_api_key(key, Actor.system("tests"), grace_hours=0)
    return raw


def test_keys_modes_merchants_and_unknown_ids(sdk):
    shop = factories.live_merchant("Compat Live Shop")
    own_key = factories.secret_key(shop)
    keys = {
        "own_key": own_key,
        "wrong_key": "sk_test_" + "x" * 30,
        "malformed_key": "not-a-key",
        "revoked_key": _revoked_key(shop),
        "publishable_key": factories.publishable_key(shop),
        "other_merchant_key": factories.secret_key(factories.merchant("Other Shop")),
        "live_key": factories.secret_key(shop, is_live=True),
    }

    out = sdk.run("auth_errors", own_key, **keys)

    for name in ("wrong_key", "malformed_key", "revoked_key"):
        for call in ("retrieve", "list"):
            result = out[name][call]
            assert result["_error"] == UNAUTHORIZED, (name, call, result)
            assert result["http_status"] == 401
            assert result["error_object"]["code"] == "invalid_api_key"
    for call in ("retrieve", "list"):
        assert out["publishable_key"][call]["_error"] == FORBIDDEN
        assert out["publishable_key"][call]["error_object"]["code"] == "publishable_key_not_allowed"

    # Another merchant, or the other mode of the same merchant: the objects do not exist.
    for name in ("other_merchant_key", "live_key"):
        for call in (
            "retrieve",
            "abort",
            "refunds",
            "refund",
            "customer",
            "customer_update",
            "customer_delete",
            "cards",
        ):
            result = out[name][call]
            assert result["_error"] == NOT_FOUND, (name, call, result)
            assert result["error_object"]["code"] == "not_found"
        assert out[name]["list"]["data"] == []
        assert out[name]["customers"]["data"] == []

    for call, result in out["unknown"].items():
        assert result["_error"] == NOT_FOUND, (call, result)

    assert out["not_offered"]["oney_simulation"]["_error"] == NOT_FOUND
    assert out["not_offered"]["oney_payment"]["_error"] == BAD_REQUEST
    assert "payment_method" in out["not_offered"]["oney_payment"]["error_object"]["details"]

    # Nothing the other keys tried changed anything.
    assert out["payment_after"]["failure"] is None
    assert out["customer_after"]["id"] == out["customer_id"]

    assert out["invalid_amount"]["_error"] == BAD_REQUEST
    assert out["invalid_amount"]["error_object"]["message"].startswith("amount: ")
    assert out["invalid_currency"]["_error"] == BAD_REQUEST
    assert out["invalid_currency"]["error_object"]["details"] == {"currency": "only EUR is supported."}
