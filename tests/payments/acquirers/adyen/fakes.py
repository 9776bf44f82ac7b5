"""A strict fake of Adyen's Checkout API (v71) and standard webhooks, for `responses`.

Modelled on Adyen's public references:

* https://docs.adyen.com/api-explorer/Checkout/71/post/payments
* https://docs.adyen.com/api-explorer/Checkout/71/post/payments/details
* https://docs.adyen.com/api-explorer/Checkout/71/post/payments/(paymentPspReference)/captures
  (and ``/cancels``, ``/refunds``), https://docs.adyen.com/online-payments/capture
* https://docs.adyen.com/development-resources/api-idempotency (Idempotency-Key, 64 characters)
* https://docs.adyen.com/development-resources/response-handling and
  https://docs.adyen.com/development-resources/error-codes (``status, errorCode, message, errorType``)
* https://docs.adyen.com/development-resources/refusal-reasons/
* https://docs.adyen.com/development-resources/webhooks/secure-webhooks/verify-hmac-signatures

Every request is checked the way Adyen would take it: the method and path, ``X-API-Key``,
``Content-Type: application/json``, an ``Idempotency-Key`` of at most 64 characters (and the
expected one, when the test names it), the JSON body's required fields and types, and, when the
test gives it, the exact body. A request that breaks a rule fails the test at once (the
AssertionError leaves the connector: it is not a transport error it could swallow). An
unexpected request finds no registered answer and `responses` refuses it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

import requests
import responses

API_KEY = "AQEyhmfxK4_test_api_key"
MERCHANT_ACCOUNT = "PayPlatformECOM"
HMAC_KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
BASE = "https://checkout-test.adyen.com/v71"

UNAUTHORIZED = {
    "status": 401,
    "errorCode": "000",
    "message": "HTTP Status Response - Unauthorized",
    "errorType": "security",
}
IN_PROGRESS = {
    "status": 422,
    "errorCode": "704",
    "message": "request already processed or in progress",
    "errorType": "validation",
}
INTERNAL = {"status": 500, "errorCode": "000", "message": "An unknown error occurred", "errorType": "internal"}


def _amount_ok(amount) -> bool:
    return (
        isinstance(amount, dict)
        and isinstance(amount.get("value"), int)
        and amount["value"] >= 0
        and isinstance(amount.get("currency"), str)
        and len(amount["currency"]) == 3
    )


def check_payments_body(body: dict) -> None:
    """POST /payments: the required fields and their types (Checkout API v71)."""
    assert isinstance(body.get("merchantAccount"), str) and body["merchantAccount"], "merchantAccount is required"
    assert isinstance(body.get("reference"), str) and 0 < len(body["reference"]) <= 80, "reference: 1-80 chars"
    assert _amount_ok(body.get("amount")), "amount {value, currency} is required"
    method = body.get("paymentMethod")
    assert isinstance(method, dict) and method.get("type") == "scheme", "paymentMethod.type must be scheme"
    for field in ("number", "expiryMonth", "expiryYear", "cvc", "holderName"):
        assert field not in method or isinstance(method[field], str), f"paymentMethod.{field} is a string"
    if "expiryMonth" in method:
        assert len(method["expiryMonth"]) == 2, "expiryMonth is two digits"
    assert body.get("shopperInteraction") in (None, "Ecommerce", "ContAuth", "Moto", "POS")
    if body.get("shopperInteraction") == "ContAuth":
        assert body.get("recurringProcessingModel") in ("CardOnFile", "Subscription", "UnscheduledCardOnFile")
    if "additionalData" in body:
        assert all(isinstance(value, str) for value in body["additionalData"].values()), "additionalData: strings"


def check_details_body(body: dict) -> None:
    assert isinstance(body.get("details"), dict) and body["details"], "details is required"
    assert all(isinstance(value, str) for value in body["details"].values())


def check_modification_body(body: dict, *, with_amount: bool) -> None:
    assert body.get("merchantAccount") == MERCHANT_ACCOUNT, "merchantAccount is required"
    if with_amount:
        assert _amount_ok(body.get("amount")) and body["amount"]["value"] > 0, "amount is required"
    else:
        assert "amount" not in body
    assert "reference" not in body or (isinstance(body["reference"], str) and len(body["reference"]) <= 80)


CHECKS = {
    "payments": check_payments_body,
    "details": check_details_body,
    "captures": lambda body: check_modification_body(body, with_amount=True),
    "refunds": lambda body: check_modification_body(body, with_amount=True),
    "cancels": lambda body: check_modification_body(body, with_amount=False),
}


class AdyenFake:
    """Registers expected calls on a `responses.RequestsMock`; records what was sent."""

    def __init__(self, mock: responses.RequestsMock, *, base: str = BASE, api_key: str = API_KEY):
        self.mock = mock
        self.base = base
        self.api_key = api_key
        self.bodies: list[dict] = []
        self.headers: list[dict] = []

    def expect(
        self,
        path: str,
        answer=None,
        *,
        status: int = 200,
        kind: str | None = None,
        body: dict | None = None,
        idempotency_key: str | None = None,
        raw: str | None = None,
        error: Exception | None = None,
    ):
        kind = kind or _kind_of(path)

        def callback(request):
            headers = {name.lower(): value for name, value in request.headers.items()}
            self.headers.append(headers)
            assert request.method == "POST"
            assert headers.get("x-api-key") == self.api_key, "X-API-Key is required"
            assert headers.get("content-type") == "application/json"
            key = headers.get("idempotency-key")
            assert key and len(key) <= 64, "Idempotency-Key: 1 to 64 characters"
            if idempotency_key is not None:
                assert key == idempotency_key
            assert headers.get("adyen-library-name") == "adyen-python-api-library"
            sent = json.loads(request.body)
            self.bodies.append(sent)
            CHECKS[kind](sent)
            if body is not None:
                assert sent == body
            if error is not None:
                raise error
            text = raw if raw is not None else json.dumps(answer)
            return status, {"Content-Type": "application/json", "pspReference": "8816000000000001"}, text

        self.mock.add_callback(responses.POST, self.base + path, callback=callback)


def _kind_of(path: str) -> str:
    if path == "/payments":
        return "payments"
    if path == "/payments/details":
        return "details"
    return path.rsplit("/", 1)[-1]


def read_timeout():
    return requests.ReadTimeout("Read timed out.")


def sign(item: dict, key: str = HMAC_KEY) -> str:
    """The documented signature of a standard notification item: HMAC-SHA256 with the hex key of
    pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success,
    base64."""
    fields = [
        item.get("pspReference", ""),
        item.get("originalReference", ""),
        item.get("merchantAccountCode", ""),
        item.get("merchantReference", ""),
        str(item["amount"]["value"]),
        item["amount"]["currency"],
        item.get("eventCode", ""),
        item.get("success", ""),
    ]
    digest = hmac.new(binascii.a2b_hex(key), ":".join(fields).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def notification_item(event_code="AUTHORISATION", success="true", *, key=HMAC_KEY, signature=None, **fields) -> dict:
    item = {
        "additionalData": {},
        "amount": {"currency": "EUR", "value": 3300},
        "eventCode": event_code,
        "eventDate": "2026-11-04T10:15:00+01:00",
        "merchantAccountCode": MERCHANT_ACCOUNT,
        "merchantReference": "idem_attempt_1",
        "paymentMethod": "visa",
        "pspReference": "8816000000000001",
        "reason": "",
        "success": success,
    }
    extra_data = fields.pop("additionalData", {})
    item.update(fields)
    item["additionalData"] = {**extra_data, "hmacSignature": signature or sign(item, key)}
    return {"NotificationRequestItem": item}


def notification(*items, live="false") -> bytes:
    return json.dumps({"live": live, "notificationItems": list(items)}).encode()
