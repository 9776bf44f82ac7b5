"""A strict fake of Stripe's API v1 for `responses`, written from Stripe's public API reference.

Requests are checked the way Stripe checks them: method and path, ``Authorization: Bearer <secret
key>``, the pinned ``Stripe-Version``, ``Idempotency-Key`` on every POST (none on GET), a
form-encoded body with exactly the documented parameters (Stripe refuses unknown ones with
``parameter_unknown``), query parameters on GET. Answers are the documented objects and errors.

Pages this is modelled on:

- PaymentIntents: https://docs.stripe.com/api/payment_intents/create,
  https://docs.stripe.com/api/payment_intents/object, https://docs.stripe.com/api/payment_intents/retrieve,
  https://docs.stripe.com/api/payment_intents/capture, https://docs.stripe.com/api/payment_intents/cancel,
  https://stripe.com/docs/api/payment_intents/search and the query language https://docs.stripe.com/search
- Statuses and 3-D Secure: https://docs.stripe.com/payments/paymentintents/lifecycle,
  https://docs.stripe.com/payments/3d-secure
- Refunds: https://docs.stripe.com/api/refunds/create, https://docs.stripe.com/api/refunds/object
- Errors: https://docs.stripe.com/api/errors, https://docs.stripe.com/error-codes,
  decline codes https://docs.stripe.com/declines/codes
- Idempotency: https://docs.stripe.com/api/idempotent_requests (https://docs.stripe.com/idempotency)
- Versioning: https://docs.stripe.com/api/versioning; metadata: https://docs.stripe.com/api/metadata
- Webhooks: https://docs.stripe.com/webhooks/signatures (t=<timestamp>,v1=<HMAC-SHA256 of
  "<timestamp>.<body>">), event types https://docs.stripe.com/api/events/types, disputes
  https://docs.stripe.com/api/disputes/object
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time

from responses import matchers

from payments.acquirers.base import CardData
from payments.acquirers.stripe_acquirer import API_VERSION

API = "https://api.stripe.com"
API_KEY = "sk_test_51PayPlatformFakeKey000000000000"
WEBHOOK_SECRET = "whsec_test_fake_endpoint_secret_0001"
INTENTS = f"{API}/v1/payment_intents"
REFUNDS = f"{API}/v1/refunds"
INTENT_ID = "pi_3MtwBwLkdIwHu7ix28a3tqPa"
INTENT_URL = f"{INTENTS}/{INTENT_ID}"
CHARGE_ID = "ch_3MtwBwLkdIwHu7ix2m5QFvZ8"
KEY = "idem_2m7QbVx0LrT5cKzA9eWq4N8dXy3Jk1Pb"
NUMBER = "4970101234567893"  # Luhn-valid, so the log masking filter would also catch it
CVC = "7391"
CREATED = 1795512600
REDIRECT = "https://hooks.stripe.com/3d_secure_2/hosted?merchant=acct_1Fake&payment_intent=" + INTENT_ID


# --- what we must send ---------------------------------------------------------------------------


def _no_idempotency_key(request):
    if "Idempotency-Key" in request.headers:
        return False, "a GET carries no Idempotency-Key"
    return True, ""


def _empty_body(request):
    if request.body:
        return False, f"expected no parameters, got {request.body!r}"
    return True, ""


def post(idempotency_key: str, params: dict | None) -> list:
    """Matchers of a POST: headers, and exactly these form parameters (None: an empty body)."""
    checks = [
        matchers.header_matcher(
            {
                "Authorization": f"Bearer {API_KEY}",
                "Stripe-Version": API_VERSION,
                "Idempotency-Key": idempotency_key,
                "Content-Type": "application/x-www-form-urlencoded",
            }
        )
    ]
    checks.append(_empty_body if params is None else matchers.urlencoded_params_matcher(params))
    return checks


def get(query: dict | None = None) -> list:
    return [
        matchers.header_matcher({"Authorization": f"Bearer {API_KEY}", "Stripe-Version": API_VERSION}),
        _no_idempotency_key,
        matchers.query_param_matcher(query or {}),
        _empty_body,
    ]


def authorization_form(changes: dict | None = None) -> dict:
    """The create-and-confirm form of a present shopper's card; a change to None drops the field."""
    form = {
        "amount": "3300",
        "currency": "eur",
        "capture_method": "manual",
        "confirm": "true",
        "payment_method_types[0]": "card",
        "payment_method_data[type]": "card",
        "payment_method_data[card][number]": NUMBER,
        "payment_method_data[card][exp_month]": "12",
        "payment_method_data[card][exp_year]": "2030",
        "payment_method_data[card][cvc]": CVC,
        "payment_method_data[billing_details][name]": "Jeanne Martin",
        "metadata[payplug_idempotency_key]": KEY,
        "expand[0]": "latest_charge",
        "statement_descriptor_suffix": "SHOP 42",
        "return_url": "https://pay.example.net/p/Qm9uam91ckJvbmpvdXI",
    }
    for name, value in (changes or {}).items():
        if value is None:
            form.pop(name, None)
        else:
            form[name] = value
    return form


# --- what Stripe answers -------------------------------------------------------------------------


def charge(*, three_d_secure: dict | None = None, country: str = "FR", **extra) -> dict:
    body = {
        "id": CHARGE_ID,
        "object": "charge",
        "amount": 3300,
        "amount_captured": 0,
        "amount_refunded": 0,
        "captured": False,
        "currency": "eur",
        "livemode": False,
        "metadata": {},
        "paid": True,
        "payment_intent": INTENT_ID,
        "payment_method": "pm_1MtwBwLkdIwHu7ixFake",
        "payment_method_details": {
            "type": "card",
            "card": {
                "brand": "visa",
                "country": country,
                "exp_month": 12,
                "exp_year": 2030,
                "last4": NUMBER[-4:],
                "network": "visa",
                "three_d_secure": three_d_secure,
            },
        },
        "refunded": False,
        "status": "succeeded",
    }
    body.update(extra)
    return body


def intent(status: str, **extra) -> dict:
    body = {
        "id": INTENT_ID,
        "object": "payment_intent",
        "amount": 3300,
        "amount_capturable": 3300 if status == "requires_capture" else 0,
        "amount_received": 0,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "manual",
        "client_secret": f"{INTENT_ID}_secret_fakefakefake",
        "confirmation_method": "automatic",
        "created": CREATED,
        "currency": "eur",
        "customer": None,
        "description": None,
        "last_payment_error": None,
        "latest_charge": charge() if status in ("requires_capture", "succeeded") else None,
        "livemode": False,
        "metadata": {"payplug_idempotency_key": KEY},
        "next_action": None,
        "payment_method": "pm_1MtwBwLkdIwHu7ixFake",
        "payment_method_types": ["card"],
        "statement_descriptor_suffix": "SHOP 42",
        "status": status,
    }
    body.update(extra)
    return body


def payment_error(code: str = "card_declined", decline_code: str | None = "generic_decline") -> dict:
    error = {
        "type": "card_error",
        "code": code,
        "charge": CHARGE_ID,
        "doc_url": f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}",
        "message": "Your card was declined.",
    }
    if decline_code:
        error["decline_code"] = decline_code
    return error


def declined_intent(code: str = "card_declined", decline_code: str | None = "generic_decline", **extra) -> dict:
    return intent("requires_payment_method", last_payment_error=payment_error(code, decline_code), **extra)


def card_error(code: str = "card_declined", decline_code: str | None = "generic_decline", message=None) -> dict:
    """A 402: Stripe's error, with the PaymentIntent it left in requires_payment_method."""
    error = payment_error(code, decline_code)
    if message:
        error["message"] = message
    error["payment_intent"] = declined_intent(code, decline_code)
    return {"error": error}


def invalid_request(code: str, message: str = "Invalid request.", param: str | None = None) -> dict:
    error = {"type": "invalid_request_error", "code": code, "message": message}
    if param:
        error["param"] = param
    return {"error": error}


def idempotency_error() -> dict:
    return {
        "error": {
            "type": "idempotency_error",
            "message": (
                "Keys for idempotent requests can only be used with the same parameters they were first used with."
            ),
        }
    }


def api_error() -> dict:
    return {"error": {"type": "api_error", "message": "An unknown error occurred."}}


def conflict() -> dict:
    return {
        "error": {
            "type": "invalid_request_error",
            "code": "idempotency_key_in_use",
            "message": "There is currently another in-progress request using this Stripe API key and idempotency key.",
        }
    }


def search_result(*intents: dict) -> dict:
    return {
        "object": "search_result",
        "url": "/v1/payment_intents/search",
        "has_more": False,
        "next_page": None,
        "data": list(intents),
    }


def refund(status: str = "succeeded", amount: int = 3300, **extra) -> dict:
    body = {
        "id": "re_3MtwBwLkdIwHu7ix0Xp6Fake",
        "object": "refund",
        "amount": amount,
        "balance_transaction": "txn_3MtwBwLkdIwHu7ixFake",
        "charge": CHARGE_ID,
        "created": CREATED + 60,
        "currency": "eur",
        "metadata": {"payplug_idempotency_key": "refund-key"},
        "payment_intent": INTENT_ID,
        "reason": None,
        "status": status,
    }
    body.update(extra)
    return body


def dispute(status: str = "needs_response", reason: str = "fraudulent", **extra) -> dict:
    body = {
        "id": "du_1MtJUT2eZvKYlo2CNaw2HvEv",
        "object": "dispute",
        "amount": 3300,
        "charge": CHARGE_ID,
        "created": CREATED + 86400,
        "currency": "eur",
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": INTENT_ID,
        "reason": reason,
        "status": status,
    }
    body.update(extra)
    return body


# --- webhooks ------------------------------------------------------------------------------------


def event(event_type: str, obj: dict, *, event_id: str = "evt_1NG8Du2eZvKYlo2CUI79vXWy", **extra) -> dict:
    body = {
        "id": event_id,
        "object": "event",
        "api_version": API_VERSION,
        "created": CREATED + 120,
        "data": {"object": copy.deepcopy(obj)},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }
    body.update(extra)
    return body


def signed(body, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> tuple[bytes, dict]:
    """The body and headers of a delivery, signed the documented way (not with the SDK's helper)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    return raw, {"Stripe-Signature": f"t={timestamp},v1={digest}", "Content-Type": "application/json"}


# --- our side ------------------------------------------------------------------------------------


def card(number: str = NUMBER, cvc: str | None = CVC, holder: str = "Jeanne Martin") -> CardData:
    return CardData(number=number, exp_month=12, exp_year=2030, cvc=cvc, holder=holder)


def authorize(acquirer, **overrides):
    arguments = {
        "card": card(),
        "amount": 3300,
        "currency": "EUR",
        "idempotency_key": KEY,
        "statement_descriptor": "SHOP 42",
        "return_url": "https://pay.example.net/p/Qm9uam91ckJvbmpvdXI",
    }
    arguments.update(overrides)
    return acquirer.authorize(**arguments)
