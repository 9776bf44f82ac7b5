"""The Stripe connector: PaymentIntents through the official `stripe` SDK, card details sent
server to server (as a PCI-DSS compliant platform may), manual capture.

One connector per merchant and mode, built from its ``ConnectorConfig``: its own ``StripeClient``
(API key, pinned API version, base address, timeout, the SDK's retries off), never the SDK's
global settings, so that two merchants never share a key or a setting.

What is sent
============

``authorize``: ``POST /v1/payment_intents`` with ``amount``, ``currency`` (lower case),
``capture_method=manual``, ``confirm=true``, ``payment_method_types[0]=card``,
``payment_method_data[type]=card`` and ``payment_method_data[card][number|exp_month|exp_year|cvc]``
(``billing_details[name]`` when the holder is known), ``metadata[payplug_idempotency_key]`` (ours),
``statement_descriptor_suffix`` (the merchant's descriptor, cleaned of the characters Stripe
refuses), ``return_url`` when the hosted page gave one, ``expand[0]=latest_charge`` (to read
the 3-D Secure result and the issuer's country), and either
``payment_method_options[card][request_three_d_secure]=challenge`` (``force_3ds`` with the
shopper present) or ``off_session=true`` (a merchant-initiated charge).

Merchant-initiated charges: a real MIT integration charges a *saved* Stripe PaymentMethod attached
to a Stripe Customer, set up during a customer-initiated payment (``setup_future_usage``), so that
the card networks receive the original transaction's reference. Our interface hands the card from
our own vault instead; ``off_session=true`` tells Stripe the shopper is absent (no challenge
possible: an issuer that insists answers ``authentication_required``), but the network linkage of a
stored-credential series is lost, and some issuers decline more such charges. Storing Stripe
PaymentMethods next to our vault entries is the documented way out (issue 17, later increment).

``complete_3ds``: the shopper came back from Stripe's challenge page to our hosted page; the intent
is re-read (``GET /v1/payment_intents/{id}``). ``authenticated=False`` (challenge abandoned or
failed on our side) cancels the intent (``POST .../cancel``) and answers ``3ds_declined``.

``capture``: ``POST /v1/payment_intents/{id}/capture`` with ``amount_to_capture`` (partial
captures release the rest). ``void``: ``POST /v1/payment_intents/{id}/cancel``. ``refund``:
``POST /v1/refunds`` with ``payment_intent``, ``amount`` and our key in metadata.

Every POST carries ``Idempotency-Key: <our key>:<operation>`` (deterministic, one namespace per
operation, so that our key reused by mistake for two operations cannot collide at Stripe).

Outcomes and errors
===================

``authorize`` / ``complete_3ds`` never raise for Stripe's answers: a network error, a timeout, a
``5xx``, a ``409`` (the same key still being processed), an ``idempotency_error`` or an answer that
does not match Stripe's schema gives ``Outcome.UNKNOWN`` (the card may have been authorised:
``inquire`` settles it). A ``402`` card error is ``DECLINED`` (or ``ERROR`` for Stripe's
``processing_error``) with our failure code; other ``4xx`` are ``ERROR``/``processing_error``
(Stripe refused the request: nothing was authorised). The request is never re-sent here.

``capture`` / ``void`` / ``refund`` raise ``AcquirerUnavailable`` when nothing definitive came back
(network, timeout, ``5xx``, ``409``, ``429``, malformed answer) and also for ``401``/``403`` (a
credential that no longer works changes no payment); the caller may retry with the same key, and
Stripe's idempotency replays the first answer. Other refusals are ``DECLINED``/``processing_error``
with Stripe's error code in the message. A capture refused because the intent already succeeded
(or a void because it is already canceled) is re-read and answered ``SUCCEEDED``.

Card data
=========

The number and security code exist only in the parameters built by ``_authorization_params`` and
in the SDK's request. The SDK logs every request's form body at DEBUG (logger ``stripe``) and
prints it to stderr when ``stripe.log`` or ``STRIPE_LOG`` is ``debug``: a filter on the ``stripe``
logger drops its records below WARNING (it logs nothing above), and a connector refuses to be
built while console logging is on. The SDK's answer objects remember the request parameters
(``_retrieve_params``): they are turned into plain dicts at once and dropped, and
``AcquirerResult.raw`` keeps only whitelisted fields. No exception we raise chains an SDK
exception (which holds the ``requests`` exception and its prepared request, body included); no
free text from Stripe (``message``) is kept, only its machine codes.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
import stripe
from text_unidecode import unidecode

from payments.acquirers import network
from payments.acquirers.base import (
    Acquirer,
    AcquirerEvent,
    AcquirerResult,
    AcquirerUnavailable,
    CardData,
    ConnectorConfig,
    InvalidNotification,
    Outcome,
)

logger = logging.getLogger(__name__)

# Pinned: the answers' shape depends on it (Stripe-Version header). Upgrading it is a code change,
# reviewed against Stripe's changelog, never a side effect of upgrading the SDK.
API_VERSION = "2026-10-28.endive"
METADATA_KEY = "payplug_idempotency_key"
FENCE_METADATA_KEY = "payplug_inquiry_fence"
WEBHOOK_TOLERANCE_SECONDS = 300
# The inquiry's fence: an intent that can never charge (never confirmed, no card), created with
# the authorisation's own Stripe idempotency key. See `StripeAcquirer.inquire`.
FENCE_AMOUNT = 100
FENCE_CURRENCY = "eur"

CARD_DECLINED = "card_declined"
PROCESSING_ERROR = "processing_error"
INCORRECT_NUMBER = "incorrect_number"
THREE_DS_DECLINED = "3ds_declined"

_GENERIC_DECLINE = (CARD_DECLINED, "The card was declined by the issuer.")
_LOST_OR_STOLEN = (CARD_DECLINED, "The card was declined: it was reported lost or stolen.")
_NOT_ALLOWED = (CARD_DECLINED, "The card was declined: the card does not allow this kind of payment.")
_TRY_LATER = (PROCESSING_ERROR, "The issuer could not be reached; nothing was charged.")
_FRAUD = (CARD_DECLINED, "The card was declined (suspected fraud).")
_INCORRECT_NUMBER = (INCORRECT_NUMBER, "The card number does not exist.")
_WRONG_CVC = (CARD_DECLINED, "The card was declined: the security code is incorrect.")
_WRONG_EXPIRY = (CARD_DECLINED, "The card was declined: the expiry date is incorrect.")
_THREE_DS_FAILED = (THREE_DS_DECLINED, "3-D Secure authentication failed.")
_AUTHENTICATION_REQUIRED = (CARD_DECLINED, "The card was declined: the issuer requires 3-D Secure authentication.")
_PROCESSING = (PROCESSING_ERROR, "Stripe reported a processing error.")

# Stripe's decline codes (error.decline_code) and card error codes (error.code when it is not
# card_declined) -> our failure code (spec §7.4) and English message. Unknown codes are generic
# declines. https://docs.stripe.com/declines/codes and https://docs.stripe.com/error-codes
DECLINE_CODES: dict[str, tuple[str, str]] = {
    "generic_decline": _GENERIC_DECLINE,
    "card_declined": _GENERIC_DECLINE,
    "do_not_honor": (CARD_DECLINED, "The card was declined by the issuer (do not honour)."),
    "do_not_try_again": (CARD_DECLINED, "The card was declined by the issuer (do not try again)."),
    "call_issuer": (CARD_DECLINED, "The card was declined: the shopper must call the issuer."),
    "insufficient_funds": (CARD_DECLINED, "The card was declined: insufficient funds."),
    "withdrawal_count_limit_exceeded": (CARD_DECLINED, "The card was declined: its spending limit was reached."),
    "card_velocity_exceeded": (CARD_DECLINED, "The card was declined: its spending limit was reached."),
    "lost_card": _LOST_OR_STOLEN,
    "stolen_card": _LOST_OR_STOLEN,
    "pickup_card": _LOST_OR_STOLEN,
    "expired_card": (CARD_DECLINED, "The card was declined: it has expired."),
    "incorrect_cvc": _WRONG_CVC,
    "invalid_cvc": _WRONG_CVC,
    "invalid_expiry_month": _WRONG_EXPIRY,
    "invalid_expiry_year": _WRONG_EXPIRY,
    "invalid_expiry_date": _WRONG_EXPIRY,
    "incorrect_zip": (CARD_DECLINED, "The card was declined: the postal code is incorrect."),
    "restricted_card": (CARD_DECLINED, "The card was declined: the card is restricted."),
    "security_violation": (CARD_DECLINED, "The card was declined: the card is restricted."),
    "transaction_not_allowed": _NOT_ALLOWED,
    "card_not_supported": _NOT_ALLOWED,
    "currency_not_supported": _NOT_ALLOWED,
    "not_permitted": _NOT_ALLOWED,
    "service_not_allowed": _NOT_ALLOWED,
    "invalid_account": (CARD_DECLINED, "The card was declined: the card account is invalid."),
    "new_account_information_available": (CARD_DECLINED, "The card was declined: the card account is invalid."),
    "invalid_amount": (CARD_DECLINED, "The card was declined: the issuer refused the amount."),
    "duplicate_transaction": (CARD_DECLINED, "The card was declined: a identical payment was just made."),
    "fraudulent": _FRAUD,
    "merchant_blacklist": _FRAUD,
    "stop_payment_order": (CARD_DECLINED, "The card was declined: the cardholder stopped this payment."),
    "revocation_of_authorization": (CARD_DECLINED, "The card was declined: the cardholder stopped this payment."),
    "revocation_of_all_authorizations": (CARD_DECLINED, "The card was declined: the cardholder stopped this payment."),
    "testmode_decline": (CARD_DECLINED, "The card was declined: a real card was used in the test environment."),
    "authentication_required": _AUTHENTICATION_REQUIRED,
    "card_decline_rate_limit_exceeded": (CARD_DECLINED, "The card was declined too many times; try again later."),
    "incorrect_number": _INCORRECT_NUMBER,
    "invalid_number": _INCORRECT_NUMBER,
    "payment_intent_authentication_failure": _THREE_DS_FAILED,
    "processing_error": _PROCESSING,
    "issuer_not_available": _TRY_LATER,
    "try_again_later": _TRY_LATER,
    "reenter_transaction": _TRY_LATER,
}

_INTENT_STATUSES = frozenset(
    {
        "requires_payment_method",
        "requires_confirmation",
        "requires_action",
        "processing",
        "requires_capture",
        "canceled",
        "succeeded",
    }
)
_REFUND_STATUSES = frozenset({"pending", "requires_action", "succeeded", "failed", "canceled"})
_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,200}")  # a header value, and safe inside a search query
_PROVIDER_ID = re.compile(r"[A-Za-z0-9_]{1,255}")
_INTENT_ID = re.compile(r"pi_[A-Za-z0-9]{1,250}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_MACHINE_CODE = re.compile(r"[a-z0-9_]{1,64}")
_DESCRIPTOR_REFUSED = re.compile(r"[^A-Za-z0-9 .,\-_/&+#!?()]")  # Stripe refuses < > \ ' " * and non-Latin

_RAW_INTENT_FIELDS = frozenset(
    {
        "id",
        "object",
        "status",
        "amount",
        "amount_capturable",
        "amount_received",
        "currency",
        "capture_method",
        "created",
        "livemode",
        "cancellation_reason",
    }
)
_RAW_REFUND_FIELDS = frozenset({"id", "object", "status", "amount", "currency", "payment_intent", "failure_reason"})


# --- the SDK's logging ---------------------------------------------------------------------------


class _QuietStripeSdk(logging.Filter):
    """Drops the SDK's records below WARNING (all it writes): at DEBUG they hold every request's
    form body (card number and CVC included), at INFO Stripe's free-text error messages."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


def _quiet_sdk_logging() -> None:
    sdk_logger = logging.getLogger("stripe")
    if not any(isinstance(existing, _QuietStripeSdk) for existing in sdk_logger.filters):
        sdk_logger.addFilter(_QuietStripeSdk())


_quiet_sdk_logging()
# The SDK's telemetry writes an id file under ~/.config/stripe and sends this host's platform string
# with every request: nothing a payment platform should volunteer. A process-wide switch (the same
# for every merchant), set once here.
stripe.enable_telemetry = False


def _refuse_console_logging() -> None:
    # The SDK prints requests to stderr itself (no logger, so no filter) when `stripe.log` or the
    # STRIPE_LOG environment variable (read once, when the SDK is imported) says so.
    sdk_level = getattr(stripe._util, "STRIPE_LOG", None)  # pinned SDK version: see pyproject.toml
    if stripe.log in ("debug", "info") or sdk_level in ("debug", "info"):
        raise ValueError("The Stripe connector refuses to run with STRIPE_LOG or stripe.log set: it prints card data.")


# --- validation ----------------------------------------------------------------------------------


def _base_url(url: str) -> str:
    """'' for Stripe's own address; an https:// URL, or http:// to a loopback host only."""
    return network.checked_base_url(url, "The Stripe base URL") if url else ""


def _check_api_key(api_key, test_environment: bool) -> None:
    if not isinstance(api_key, str) or not api_key:
        raise ValueError("A Stripe secret key is required.")
    prefixes = ("sk_test_", "rk_test_") if test_environment else ("sk_live_", "rk_live_")
    if not api_key.startswith(prefixes):
        environment = "test" if test_environment else "live"
        raise ValueError(
            f"The Stripe key does not belong to the {environment} environment (expected {prefixes[0]}...)."
        )


def _check_key(idempotency_key) -> None:
    if not isinstance(idempotency_key, str) or not _KEY.fullmatch(idempotency_key):
        raise ValueError("idempotency_key must be 1 to 200 characters among letters, digits and _ . : -")


def _check_amount(amount) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValueError("amount must be a positive integer number of cents")


def _check_intent_id(reference) -> None:
    if not isinstance(reference, str) or not _INTENT_ID.fullmatch(reference):
        raise ValueError("reference must be a Stripe PaymentIntent id (pi_...)")


def _check_card(card: CardData) -> None:
    if not (isinstance(card.number, str) and card.number.isdigit() and 12 <= len(card.number) <= 19):
        raise ValueError("the card number must be 12 to 19 digits")  # never echo the number
    if not isinstance(card.exp_month, int) or not 1 <= card.exp_month <= 12:
        raise ValueError("the expiry month must be 1 to 12")
    if not isinstance(card.exp_year, int) or not 2000 <= card.exp_year <= 2100:
        raise ValueError("the expiry year must be a four-digit year")
    if card.cvc is not None and not (isinstance(card.cvc, str) and card.cvc.isdigit() and 3 <= len(card.cvc) <= 4):
        raise ValueError("the security code must be 3 or 4 digits")


def _provider_key(idempotency_key: str, operation: str) -> str:
    """Stripe's Idempotency-Key for one of our operations: deterministic, one namespace per operation."""
    return f"{idempotency_key}:{operation}"


def _descriptor_suffix(descriptor: str) -> str:
    cleaned = " ".join(_DESCRIPTOR_REFUSED.sub("", unidecode(descriptor or "")).split())[:22].strip()
    # Stripe wants at least one letter in a descriptor.
    return cleaned if any(char.isalpha() for char in cleaned) else ""


def _code(value) -> str:
    """A machine code from Stripe, or "" when it does not look like one (never echo free text)."""
    return value if isinstance(value, str) and _MACHINE_CODE.fullmatch(value) else ""


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _scalar(value):
    if isinstance(value, str):
        return _code(value) or (value if _PROVIDER_ID.fullmatch(value) else None)
    if value is None or isinstance(value, bool | int):
        return value
    return None


def _raw(data: dict, fields: frozenset) -> dict:
    raw = {key: _scalar(value) for key, value in data.items() if key in fields}
    error = data.get("last_payment_error")
    if isinstance(error, dict):
        raw["last_payment_error"] = {key: _code(error.get(key)) or None for key in ("type", "code", "decline_code")}
    next_action = data.get("next_action")
    if isinstance(next_action, dict):
        raw["next_action"] = {"type": _code(next_action.get("type")) or None}
    charge = data.get("latest_charge")
    if isinstance(charge, dict):
        raw["latest_charge"] = _scalar(charge.get("id"))
    elif isinstance(charge, str):
        raw["latest_charge"] = _scalar(charge)
    return raw


def _https_url(value) -> str:
    if not isinstance(value, str) or len(value) > 2048:
        return ""
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return value
    if parts.scheme == "http" and parts.hostname and network.is_loopback(parts.hostname):
        return value
    return ""


# --- answers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    """What one SDK call produced, without the SDK's exception (it holds the request).

    `problem` is set when no usable answer came (network, timeout, 5xx, unreadable); otherwise
    `data` is the object as a plain dict, or `status` and Stripe's error codes describe a refusal.
    """

    data: dict | None = None
    status: int | None = None
    error_type: str = ""
    code: str = ""
    decline_code: str = ""
    error_intent: dict | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.data is not None and not self.problem

    @property
    def decline(self) -> tuple[str, str]:
        reason = self.decline_code if self.code in ("", "card_declined") and self.decline_code else self.code
        return _decline(reason)


def _decline(reason: str) -> tuple[str, str]:
    code, message = DECLINE_CODES.get(reason, _GENERIC_DECLINE)
    if reason:
        message = f"{message} (Stripe: {reason})"
    return code, message


def _error_answer(exc: stripe.StripeError) -> _Answer:
    if isinstance(exc, stripe.APIConnectionError):
        return _Answer(problem="no answer (connection failed or timed out)")
    status = exc.http_status if isinstance(exc.http_status, int) else None
    if status is None or status >= 500:
        return _Answer(status=status, problem=f"HTTP {status}")
    body = exc.json_body if isinstance(exc.json_body, dict) else {}
    error = body.get("error")
    if not isinstance(error, dict):
        return _Answer(status=status, problem=f"HTTP {status} without a Stripe error")
    intent = error.get("payment_intent")
    return _Answer(
        status=status,
        error_type=_code(error.get("type")),
        code=_code(error.get("code")),
        decline_code=_code(error.get("decline_code")),
        error_intent=intent if isinstance(intent, dict) else None,
    )


def _object_answer(obj) -> _Answer:
    if not isinstance(obj, stripe.StripeObject):
        return _Answer(problem="malformed answer")
    data = obj.to_dict()  # a plain copy: the object also remembers the request's parameters
    return _Answer(data=data) if isinstance(data, dict) else _Answer(problem="malformed answer")


def _call(request: Callable[[], object]) -> _Answer:
    try:
        obj = request()
    except stripe.StripeError as exc:
        return _error_answer(exc)
    except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError):
        # The SDK choking on an answer it cannot read: never quote it, it could echo anything.
        return _Answer(problem="unreadable answer")
    return _object_answer(obj)


def _intent(data) -> dict | None:
    """A PaymentIntent as Stripe documents it, or None."""
    if not isinstance(data, dict) or data.get("object") != "payment_intent":
        return None
    if not isinstance(data.get("id"), str) or not _INTENT_ID.fullmatch(data["id"]):
        return None
    if data.get("status") not in _INTENT_STATUSES or _int(data.get("amount")) is None:
        return None
    return data


def _charge_details(intent: dict) -> tuple[bool, bool, str]:
    """(3-D Secure performed, frictionless, issuer country) from the expanded latest charge."""
    charge = intent.get("latest_charge")
    details = charge.get("payment_method_details") if isinstance(charge, dict) else None
    card = details.get("card") if isinstance(details, dict) else None
    if not isinstance(card, dict):
        return False, False, ""
    country = card.get("country")
    country = country if isinstance(country, str) and _COUNTRY.fullmatch(country) else ""
    three_ds = card.get("three_d_secure")
    if not isinstance(three_ds, dict):
        return False, False, country
    return True, three_ds.get("authentication_flow") == "frictionless", country


def _redirect_url(intent: dict) -> str:
    next_action = intent.get("next_action")
    if not isinstance(next_action, dict):
        return ""
    if next_action.get("type") == "redirect_to_url":
        redirect = next_action.get("redirect_to_url")
        return _https_url(redirect.get("url")) if isinstance(redirect, dict) else ""
    if next_action.get("type") == "use_stripe_sdk":
        # Meant for Stripe.js; for a card challenge it names the authentication page too.
        sdk = next_action.get("use_stripe_sdk")
        return _https_url(sdk.get("stripe_js")) if isinstance(sdk, dict) else ""
    return ""


def _intent_error(intent: dict) -> tuple[str, str]:
    error = intent.get("last_payment_error")
    if not isinstance(error, dict):
        return "", ""
    return _code(error.get("code")), _code(error.get("decline_code"))


def _intent_decline(intent: dict) -> tuple[str, str]:
    code, decline_code = _intent_error(intent)
    return _decline(decline_code if code in ("", "card_declined") and decline_code else code)


def _unknown(message: str, *, is_3ds: bool = False, reference: str = "") -> AcquirerResult:
    return AcquirerResult(outcome=Outcome.UNKNOWN, reference=reference, is_3ds=is_3ds, failure_message=message)


def _failed(code: str, message: str, *, reference: str = "", is_3ds: bool = False, raw=None) -> AcquirerResult:
    outcome = Outcome.ERROR if code == PROCESSING_ERROR else Outcome.DECLINED
    return AcquirerResult(
        outcome=outcome,
        reference=reference,
        failure_code=code,
        failure_message=message,
        is_3ds=is_3ds or code == THREE_DS_DECLINED,
        raw=raw or {},
    )


def _intent_result(intent: dict, *, shopper_present: bool = True, completing: bool = False) -> AcquirerResult:
    """Our reading of a PaymentIntent's state after an authorisation (or its 3-D Secure)."""
    status, reference, raw = intent["status"], intent["id"], _raw(intent, _RAW_INTENT_FIELDS)
    performed, frictionless, country = _charge_details(intent)
    is_3ds = completing or performed
    if status in ("requires_capture", "succeeded"):
        if status == "succeeded":  # manual capture: someone captured it at Stripe already
            logger.warning("stripe intent %s is already captured", reference)
        return AcquirerResult(
            outcome=Outcome.AUTHORIZED,
            reference=reference,
            is_3ds=is_3ds,
            three_ds_frictionless=frictionless,
            card_country=country,
            raw=raw,
        )
    if status == "requires_action":
        if not shopper_present:
            # off_session=true should have made Stripe answer authentication_required; nothing is
            # authorised while a challenge waits, so this is a refusal, not an unknown.
            code, message = _decline("authentication_required")
            return _failed(code, message, reference=reference, raw=raw)
        url = _redirect_url(intent)
        if not url:
            logger.warning("stripe intent %s asks for 3-D Secure without a redirect URL", reference)
        return AcquirerResult(outcome=Outcome.REQUIRES_3DS, reference=reference, is_3ds=True, redirect_url=url, raw=raw)
    if status == "processing":
        return _unknown("Stripe has not decided yet.", is_3ds=is_3ds, reference=reference)
    if status == "requires_payment_method":
        code, decline_code = _intent_error(intent)
        if not code and not decline_code:
            return _failed(*_PROCESSING, reference=reference, is_3ds=is_3ds, raw=raw)
        failure_code, message = _intent_decline(intent)
        return _failed(failure_code, message, reference=reference, is_3ds=is_3ds, raw=raw)
    if status == "canceled":
        if completing:
            return _failed(*_THREE_DS_FAILED, reference=reference, raw=raw)
        return _failed(PROCESSING_ERROR, "The payment was canceled at Stripe.", reference=reference, raw=raw)
    # requires_confirmation: never confirmed, so nothing was authorised.
    return _failed(*_PROCESSING, reference=reference, is_3ds=is_3ds, raw=raw)


# --- webhooks ------------------------------------------------------------------------------------


class _BadEvent(Exception):
    pass


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise _BadEvent(what)


def _object_of(event: dict, expected: str) -> dict:
    obj = event["data"]["object"]
    _require(obj.get("object") == expected, f"data.object is not a {expected}")
    _require(isinstance(obj.get("id"), str) and bool(_PROVIDER_ID.fullmatch(obj["id"])), "data.object.id")
    return obj


def _amount(obj: dict, name: str) -> int:
    value = _int(obj.get(name))
    _require(value is not None and value >= 0, name)
    return value


def _currency(obj: dict) -> str:
    value = obj.get("currency")
    _require(isinstance(value, str) and bool(_CURRENCY.fullmatch(value.upper())), "currency")
    return value.upper()


def _our_key(obj: dict) -> str:
    metadata = obj.get("metadata")
    key = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    return key if isinstance(key, str) and _KEY.fullmatch(key) else ""


def _intent_id_of(obj: dict) -> str:
    """The PaymentIntent a charge, refund or dispute belongs to (an id or an expanded object)."""
    intent = obj.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    _require(isinstance(intent, str) and bool(_INTENT_ID.fullmatch(intent)), "payment_intent")
    return intent


def _charge_id(obj: dict) -> str:
    charge = obj.get("latest_charge")
    if isinstance(charge, dict):
        charge = charge.get("id")
    return charge if isinstance(charge, str) and _PROVIDER_ID.fullmatch(charge) else ""


def _event_kind(event_type: str, obj: dict) -> tuple[str, dict]:
    """(our kind, extra AcquirerEvent fields) for one Stripe event whose object was checked."""
    if event_type.startswith("payment_intent."):
        _require(_intent(obj) is not None, "data.object is not a PaymentIntent")
        common = {"reference": obj["id"], "idempotency_key": _our_key(obj), "currency": _currency(obj)}
        if event_type == "payment_intent.amount_capturable_updated":
            return "authorized", {**common, "amount": _amount(obj, "amount_capturable")}
        if event_type == "payment_intent.succeeded":
            received = _amount(obj, "amount_received")
            return "captured", {**common, "amount": received, "operation_reference": _charge_id(obj)}
        if event_type == "payment_intent.payment_failed":
            failure_code, message = _intent_decline(obj)
            return "authorization_failed", {
                **common,
                "amount": _amount(obj, "amount"),
                "failure_code": failure_code,
                "failure_message": message,
            }
        if event_type == "payment_intent.canceled":
            reason = _code(obj.get("cancellation_reason"))
            return "canceled", {**common, "amount": _amount(obj, "amount"), "failure_message": reason}
    if event_type == "charge.refunded":
        _require(obj.get("object") == "charge", "data.object is not a charge")
        # The charge's cumulative refunded amount: several partial refunds each send one event.
        return "refunded", {
            "reference": _intent_id_of(obj),
            "idempotency_key": _our_key(obj),
            "amount": _amount(obj, "amount_refunded"),
            "currency": _currency(obj),
            "operation_reference": obj["id"],
        }
    if event_type == "charge.refund.updated":
        _require(obj.get("object") == "refund" and obj.get("status") in _REFUND_STATUSES, "refund status")
        common = {
            "reference": _intent_id_of(obj),
            "idempotency_key": _our_key(obj),
            "amount": _amount(obj, "amount"),
            "currency": _currency(obj),
            "operation_reference": obj["id"],
        }
        if obj["status"] == "succeeded":
            return "refunded", common
        if obj["status"] in ("failed", "canceled"):
            reason = _code(obj.get("failure_reason")) or obj["status"]
            return "refund_failed", {
                **common,
                "failure_code": PROCESSING_ERROR,
                "failure_message": f"Stripe could not refund the card ({reason}).",
            }
        return "ignored", common
    if event_type in ("charge.dispute.created", "charge.dispute.closed"):
        _require(obj.get("object") == "dispute", "data.object is not a dispute")
        # failure_code carries Stripe's dispute reason (fraudulent, product_not_received...).
        common = {
            "reference": _intent_id_of(obj),
            "amount": _amount(obj, "amount"),
            "currency": _currency(obj),
            "operation_reference": obj["id"],
            "failure_code": _code(obj.get("reason")),
        }
        if event_type == "charge.dispute.created":
            return "dispute_opened", common
        status = obj.get("status")
        if status == "won":
            return "dispute_won", common
        if status == "lost":
            return "dispute_lost", common
        return "ignored", common  # warning_closed, prevented: no chargeback happened
    return "ignored", {}


# The events we translate -> the type of their data.object.
_MAPPED_EVENTS = {
    "payment_intent.amount_capturable_updated": "payment_intent",
    "payment_intent.succeeded": "payment_intent",
    "payment_intent.payment_failed": "payment_intent",
    "payment_intent.canceled": "payment_intent",
    "charge.refunded": "charge",
    "charge.refund.updated": "refund",
    "charge.dispute.created": "dispute",
    "charge.dispute.closed": "dispute",
}


def _event(payload, *, livemode: bool) -> AcquirerEvent:
    _require(isinstance(payload, dict) and payload.get("object") == "event", "not a Stripe event")
    event_id, event_type, created = payload.get("id"), payload.get("type"), _int(payload.get("created"))
    _require(isinstance(event_id, str) and bool(_PROVIDER_ID.fullmatch(event_id)), "id")
    _require(isinstance(event_type, str) and 0 < len(event_type) <= 100, "type")
    _require(created is not None, "created")
    _require(payload.get("livemode") is livemode, "livemode does not match this endpoint's environment")
    data = payload.get("data")
    _require(isinstance(data, dict) and isinstance(data.get("object"), dict), "data.object")
    obj = data["object"]
    kind, fields = "ignored", {}
    if event_type in _MAPPED_EVENTS:
        _object_of(payload, _MAPPED_EVENTS[event_type])
        kind, fields = _event_kind(event_type, obj)
    reference = fields.pop("reference", "") or obj.get("id")
    return AcquirerEvent(
        kind=kind,
        provider_event_id=event_id,
        reference=reference if isinstance(reference, str) and _PROVIDER_ID.fullmatch(reference) else "",
        created_at=created,
        raw_type=event_type,
        **fields,
    )


# --- the connector -------------------------------------------------------------------------------


class StripeAcquirer(Acquirer):
    """Stripe, for one merchant and mode (see the module docstring for the contract)."""

    name = "stripe"

    def __init__(self, config: ConnectorConfig, *, session: requests.Session | None = None):
        """Raises ValueError for a configuration that cannot work (wrong key for the environment,
        plain http to anything but a loopback host, no timeout, the SDK's console logging on)."""
        if not isinstance(config, ConnectorConfig):
            raise TypeError("config must be a ConnectorConfig")
        _check_api_key(config.api_key, config.test_environment)
        if not isinstance(config.timeout, int | float) or config.timeout <= 0:
            raise ValueError("The Stripe timeout must be a positive number of seconds.")
        _refuse_console_logging()
        _quiet_sdk_logging()
        base_url = _base_url(config.base_url)
        self._base_url = base_url or stripe.DEFAULT_API_BASE
        self._webhook_secret = config.webhook_secret
        self._livemode = not config.test_environment
        self.read_timeout = float(config.timeout)
        # Connecting is quick or hopeless; an issuer may take a while to answer.
        self.connect_timeout = min(3.0, self.read_timeout / 2)
        session = session or requests.Session()
        session.trust_env = False  # no proxy, .netrc or CA bundle from the environment
        self._client = stripe.StripeClient(
            config.api_key,
            stripe_version=API_VERSION,
            base_addresses={"api": self._base_url},
            max_network_retries=0,  # we decide what is safe to retry: never an authorisation
            http_client=stripe.RequestsClient(timeout=(self.connect_timeout, self.read_timeout), session=session),
        )

    def __repr__(self):
        return f"StripeAcquirer(base_url={self._base_url!r}, livemode={self._livemode})"

    __str__ = __repr__

    # --- authorisation -------------------------------------------------------------------------

    def authorize(
        self,
        *,
        card: CardData,
        amount: int,
        currency: str,
        idempotency_key: str,
        force_3ds: bool = False,
        shopper_present: bool = True,
        statement_descriptor: str = "",
        return_url: str = "",
    ) -> AcquirerResult:
        """Create and confirm a manual-capture PaymentIntent with the card.

        `return_url`: where Stripe sends the shopper back after a challenge (our hosted page);
        without it Stripe answers a challenge with `use_stripe_sdk` rather than a plain redirect.
        Never re-sent: an answer that did not come is UNKNOWN, and `inquire` settles it.
        """
        _check_key(idempotency_key)
        _check_amount(amount)
        if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
            raise ValueError("currency must be a three-letter ISO 4217 code")
        _check_card(card)
        if return_url and not _https_url(return_url):
            raise ValueError("return_url must be an https:// URL")
        last4 = card.number[-4:]
        stripe_key = _provider_key(idempotency_key, "authorize")
        answer = _call(
            lambda: self._client.v1.payment_intents.create(
                _authorization_params(
                    card,
                    amount,
                    currency,
                    idempotency_key,
                    force_3ds,
                    shopper_present,
                    statement_descriptor,
                    return_url,
                ),
                options={"idempotency_key": stripe_key},
            )
        )
        result = self._authorization_outcome(answer, shopper_present=shopper_present)
        self._log_result("authorize", idempotency_key, result, f"last4={last4}")
        return result

    def complete_3ds(self, *, reference: str, authenticated: bool, idempotency_key: str) -> AcquirerResult:
        """Re-read the intent once the shopper came back from Stripe's challenge page.

        authenticated=False (the challenge failed or was abandoned): the intent is canceled, so a
        late answer of the shopper can authorise nothing, and the answer is DECLINED 3ds_declined.
        Never raises for Stripe's answers: no usable answer is UNKNOWN (inquire settles it).
        """
        _check_intent_id(reference)
        _check_key(idempotency_key)
        if authenticated:
            answer = _call(lambda: self._client.v1.payment_intents.retrieve(reference, {"expand": ["latest_charge"]}))
            result = self._authorization_outcome(answer, completing=True)
        else:
            result = self._cancel_challenge(reference, idempotency_key)
        if not result.reference:
            result.reference = reference
        self._log_result("complete_3ds", idempotency_key, result)
        return result

    def _cancel_challenge(self, reference: str, idempotency_key: str) -> AcquirerResult:
        answer = _call(
            lambda: self._client.v1.payment_intents.cancel(
                reference, {}, options={"idempotency_key": _provider_key(idempotency_key, "cancel")}
            )
        )
        if answer.ok:
            intent = _intent(answer.data)
            if intent is None:
                return _unknown("Stripe's answer is unknown (malformed answer).", is_3ds=True)
            if intent["status"] == "canceled":
                return _failed(*_THREE_DS_FAILED, reference=reference, raw=_raw(intent, _RAW_INTENT_FIELDS))
            return _unknown(f"Stripe left the intent {intent['status']}.", is_3ds=True)
        if answer.status == 400 and answer.error_type == "invalid_request_error":
            # Not cancelable any more: already canceled, or it failed on its own. Read which.
            reread = _call(lambda: self._client.v1.payment_intents.retrieve(reference))
            intent = _intent(reread.data) if reread.ok else None
            if intent is not None and intent["status"] in ("canceled", "requires_payment_method"):
                return _failed(*_THREE_DS_FAILED, reference=reference, raw=_raw(intent, _RAW_INTENT_FIELDS))
        return _unknown(
            f"Stripe did not confirm the cancellation ({answer.problem or f'HTTP {answer.status}'}).", is_3ds=True
        )

    def _authorization_outcome(
        self, answer: _Answer, *, shopper_present: bool = True, completing: bool = False
    ) -> AcquirerResult:
        if answer.problem:
            return _unknown(f"Stripe's answer is unknown ({answer.problem}).", is_3ds=completing)
        if answer.ok:
            intent = _intent(answer.data)
            if intent is None:
                logger.warning("stripe sent an authorisation answer that is not a PaymentIntent")
                return _unknown("Stripe's answer is unknown (malformed answer).", is_3ds=completing)
            return _intent_result(intent, shopper_present=shopper_present, completing=completing)
        if answer.status == 402 or answer.error_type == "card_error":
            intent = _intent(answer.error_intent)
            code, message = answer.decline
            if completing and answer.code == "payment_intent_authentication_failure":
                code, message = _THREE_DS_FAILED
            return _failed(
                code,
                message,
                reference=intent["id"] if intent else "",
                is_3ds=completing,
                raw=_raw(intent, _RAW_INTENT_FIELDS) if intent else {},
            )
        if answer.status == 409 or answer.error_type == "idempotency_error":
            # The same key is still being processed, or was used before: its outcome is unknown.
            return _unknown("Stripe is still processing this operation.", is_3ds=completing)
        if completing and answer.status == 404:
            return _failed(PROCESSING_ERROR, "Unknown 3-D Secure session.", is_3ds=True)
        logger.error(
            "stripe refused an authorisation request with HTTP %s (%s)", answer.status, answer.code or "no code"
        )
        return _failed(
            PROCESSING_ERROR,
            f"Stripe refused the request (HTTP {answer.status}{' ' + answer.code if answer.code else ''}).",
            is_3ds=completing,
        )

    # --- inquiry -------------------------------------------------------------------------------

    def inquire(self, *, idempotency_key: str) -> AcquirerResult:
        """Settle an authorisation whose answer never came, without ever creating one.

        1. Search the intents by our key in their metadata (Search API). Found: its state.
        2. Not found proves nothing: search lags writes (under a minute, up to an hour during an
           outage). So the authorisation's own Stripe idempotency key is *fenced*: an intent that
           cannot charge (amount FENCE_AMOUNT, never confirmed, no card) is created with it.
           - Stripe creates it: no request with that key ever started executing (Stripe keeps the
             answer of every request that started), and the original request, should it arrive
             late, now gets `idempotency_error` (other parameters, same key) and authorises
             nothing. The fence is canceled and the answer is DECLINED processing_error.
           - Stripe answers `idempotency_error`: the original did start; its intent is not
             searchable yet: AcquirerUnavailable, try later. `409`: still executing, likewise.
        Replaying the original request instead would need the card (we do not have it here), and
        would authorise it if the original never arrived: never done. Stripe forgets idempotency
        keys after 24 hours; an original arriving that late is long timed out on the network.

        Answers AUTHORIZED, DECLINED, ERROR or REQUIRES_3DS (a challenge still open); raises
        AcquirerUnavailable when nothing can be concluded yet.
        """
        _check_key(idempotency_key)
        found = self._search(idempotency_key)
        if found is not None:
            result = _intent_result(found, shopper_present=True)
            if result.outcome == Outcome.UNKNOWN:
                raise AcquirerUnavailable(f"inquiry for idempotency key {idempotency_key}: still processing")
            self._log_result("inquire", idempotency_key, result)
            return result
        result = self._fence(idempotency_key)
        self._log_result("inquire", idempotency_key, result)
        return result

    def _search(self, idempotency_key: str) -> dict | None:
        query = f"metadata['{METADATA_KEY}']:'{idempotency_key}'"
        answer = _call(
            lambda: self._client.v1.payment_intents.search(
                {"query": query, "limit": 10, "expand": ["data.latest_charge"]}
            )
        )
        unavailable = f"inquiry for idempotency key {idempotency_key}"
        if not answer.ok:
            if answer.status in (401, 403):
                logger.error("stripe refused the inquiry search with HTTP %s", answer.status)
            raise AcquirerUnavailable(f"{unavailable}: {answer.problem or f'search refused (HTTP {answer.status})'}")
        results = answer.data.get("data") if answer.data.get("object") == "search_result" else None
        if not isinstance(results, list):
            raise AcquirerUnavailable(f"{unavailable}: malformed search answer")
        intents = [_intent(item) for item in results]
        intents = [
            intent
            for intent in intents
            if intent is not None and _our_key(intent) == idempotency_key and not _is_fence(intent)
        ]
        if len(intents) > 1:
            # One key, one create request: several intents would be a bug somewhere; the one that
            # holds money wins so that it is not forgotten.
            logger.error("stripe holds %d intents for idempotency key %s", len(intents), idempotency_key)
            intents.sort(key=lambda intent: intent["status"] not in ("requires_capture", "succeeded"))
        return intents[0] if intents else None

    def _fence(self, idempotency_key: str) -> AcquirerResult:
        unavailable = f"inquiry for idempotency key {idempotency_key}"
        answer = _call(
            lambda: self._client.v1.payment_intents.create(
                {
                    "amount": FENCE_AMOUNT,
                    "currency": FENCE_CURRENCY,
                    "capture_method": "manual",
                    "confirm": False,
                    "payment_method_types": ["card"],
                    "description": "Inquiry fence: never confirmed, charges nothing",
                    "metadata": {METADATA_KEY: idempotency_key, FENCE_METADATA_KEY: "1"},
                },
                options={"idempotency_key": _provider_key(idempotency_key, "authorize")},
            )
        )
        if answer.ok:
            intent = _intent(answer.data)
            if intent is None:
                raise AcquirerUnavailable(f"{unavailable}: malformed answer")
            if not _is_fence(intent):
                # Stripe replayed the original authorisation's answer: that is the outcome.
                return _intent_result(intent)
            self._cancel_fence(intent["id"], idempotency_key)
            # As the sandbox and the generic acquirer say it: settled, nothing was authorised.
            return AcquirerResult(
                outcome=Outcome.DECLINED,
                failure_code=PROCESSING_ERROR,
                failure_message="Stripe has no record of this authorisation.",
            )
        if answer.status == 402 and _intent(answer.error_intent) is not None:
            return self._authorization_outcome(answer)  # the original's decline, replayed
        if answer.error_type == "idempotency_error":
            raise AcquirerUnavailable(f"{unavailable}: the authorisation exists but is not searchable yet")
        if answer.status in (401, 403):
            logger.error("stripe refused the inquiry fence with HTTP %s", answer.status)
        raise AcquirerUnavailable(f"{unavailable}: {answer.problem or f'HTTP {answer.status}'}")

    def _cancel_fence(self, reference: str, idempotency_key: str) -> None:
        # Tidiness only: an unconfirmed intent without a card can never charge.
        answer = _call(
            lambda: self._client.v1.payment_intents.cancel(
                reference,
                {"cancellation_reason": "abandoned"},
                options={"idempotency_key": _provider_key(idempotency_key, "fence-cancel")},
            )
        )
        if not answer.ok:
            logger.info("stripe inquiry fence %s left uncanceled (%s)", reference, answer.problem or answer.status)

    # --- capture, void, refund -----------------------------------------------------------------

    def capture(self, *, reference: str, amount: int, idempotency_key: str) -> AcquirerResult:
        """Capture `amount` (at most the authorised amount; the rest is released)."""
        _check_intent_id(reference)
        _check_amount(amount)
        _check_key(idempotency_key)
        answer = _call(
            lambda: self._client.v1.payment_intents.capture(
                reference,
                {"amount_to_capture": amount},
                options={"idempotency_key": _provider_key(idempotency_key, "capture")},
            )
        )
        return self._intent_operation("capture", answer, reference, idempotency_key, done="succeeded")

    def void(self, *, reference: str, idempotency_key: str) -> AcquirerResult:
        """Cancel the intent: the authorisation is released, nothing is charged."""
        _check_intent_id(reference)
        _check_key(idempotency_key)
        answer = _call(
            lambda: self._client.v1.payment_intents.cancel(
                reference, {}, options={"idempotency_key": _provider_key(idempotency_key, "void")}
            )
        )
        return self._intent_operation("void", answer, reference, idempotency_key, done="canceled")

    def refund(self, *, reference: str, amount: int, idempotency_key: str) -> AcquirerResult:
        """Refund `amount` of a captured intent; the result's reference is the refund's id (re_...).

        A `pending` refund is accepted (SUCCEEDED): Stripe tells its end by `charge.refund.updated`.
        """
        _check_intent_id(reference)
        _check_amount(amount)
        _check_key(idempotency_key)
        answer = _call(
            lambda: self._client.v1.refunds.create(
                {"payment_intent": reference, "amount": amount, "metadata": {METADATA_KEY: idempotency_key}},
                options={"idempotency_key": _provider_key(idempotency_key, "refund")},
            )
        )
        self._raise_if_unavailable("refund", answer, idempotency_key)
        if not answer.ok:
            result = self._refusal("refund", answer, reference)
        else:
            data = answer.data
            refund_id, status = data.get("id"), data.get("status")
            if (
                data.get("object") != "refund"
                or not isinstance(refund_id, str)
                or not _PROVIDER_ID.fullmatch(refund_id)
                or status not in _REFUND_STATUSES
                or _int(data.get("amount")) is None
            ):
                raise AcquirerUnavailable(f"refund with idempotency key {idempotency_key}: malformed answer")
            raw = _raw(data, _RAW_REFUND_FIELDS)
            if status in ("succeeded", "pending"):
                result = AcquirerResult(outcome=Outcome.SUCCEEDED, reference=refund_id, raw=raw)
            else:
                reason = _code(data.get("failure_reason")) or status
                result = AcquirerResult(
                    outcome=Outcome.DECLINED,
                    reference=refund_id,
                    failure_code=PROCESSING_ERROR,
                    failure_message=f"Stripe refused the refund ({reason}).",
                    raw=raw,
                )
        self._log_result("refund", idempotency_key, result)
        return result

    def _intent_operation(
        self, operation: str, answer: _Answer, reference: str, idempotency_key: str, *, done: str
    ) -> AcquirerResult:
        self._raise_if_unavailable(operation, answer, idempotency_key)
        unavailable = f"{operation} with idempotency key {idempotency_key}"
        if answer.ok:
            intent = _intent(answer.data)
            if intent is None:
                raise AcquirerUnavailable(f"{unavailable}: malformed answer")
            if intent["status"] == "processing":
                raise AcquirerUnavailable(f"{unavailable}: still processing")
            if intent["status"] != done:
                raise AcquirerUnavailable(f"{unavailable}: Stripe left the intent {intent['status']}")
            result = AcquirerResult(
                outcome=Outcome.SUCCEEDED, reference=reference, raw=_raw(intent, _RAW_INTENT_FIELDS)
            )
        elif answer.code == "payment_intent_unexpected_state":
            result = self._after_unexpected_state(operation, reference, done=done)
        else:
            result = self._refusal(operation, answer, reference)
        self._log_result(operation, idempotency_key, result)
        return result

    def _after_unexpected_state(self, operation: str, reference: str, *, done: str) -> AcquirerResult:
        """Stripe refused because of the intent's state: already done (a retry after a lost answer
        with another key, or a change made at Stripe) is a success; anything else is a refusal."""
        answer = _call(lambda: self._client.v1.payment_intents.retrieve(reference))
        intent = _intent(answer.data) if answer.ok else None
        if intent is None:
            raise AcquirerUnavailable(f"{operation} of {reference}: state unknown ({answer.problem or answer.status})")
        raw = _raw(intent, _RAW_INTENT_FIELDS)
        if intent["status"] == done:
            return AcquirerResult(outcome=Outcome.SUCCEEDED, reference=reference, raw=raw)
        reasons = {
            "canceled": "the authorisation was canceled or has expired",
            "succeeded": "the payment was already captured",
            "requires_payment_method": "the authorisation was not approved",
            "requires_action": "the authorisation was not approved",
        }
        reason = reasons.get(intent["status"], f"the intent is {intent['status']}")
        return AcquirerResult(
            outcome=Outcome.DECLINED,
            reference=reference,
            failure_code=PROCESSING_ERROR,
            failure_message=f"Stripe refused the {operation}: {reason}.",
            raw=raw,
        )

    @staticmethod
    def _raise_if_unavailable(operation: str, answer: _Answer, idempotency_key: str) -> None:
        unavailable = f"{operation} with idempotency key {idempotency_key}"
        if answer.problem:
            raise AcquirerUnavailable(f"{unavailable}: {answer.problem}")
        if answer.ok:
            return
        if answer.status in (401, 403) or answer.error_type == "idempotency_error":
            # A credential that stopped working, or our key reused with other parameters: nobody
            # can tell what happened to the payment from here; it stays as it is.
            logger.error("stripe %s key=%s refused with HTTP %s", operation, idempotency_key, answer.status)
            raise AcquirerUnavailable(f"{unavailable}: refused (HTTP {answer.status})")
        if answer.status in (409, 429):
            raise AcquirerUnavailable(f"{unavailable}: HTTP {answer.status}, try again later")

    @staticmethod
    def _refusal(operation: str, answer: _Answer, reference: str) -> AcquirerResult:
        reason = answer.code or answer.decline_code or f"HTTP {answer.status}"
        return AcquirerResult(
            outcome=Outcome.DECLINED,
            reference=reference,
            failure_code=PROCESSING_ERROR,
            failure_message=f"Stripe refused the {operation} ({reason}).",
        )

    # --- notifications -------------------------------------------------------------------------

    def parse_notification(self, body: bytes, headers: dict[str, str]) -> list[AcquirerEvent]:
        """Verify a Stripe webhook (Stripe-Signature, HMAC-SHA256 with the endpoint secret,
        timestamp within WEBHOOK_TOLERANCE_SECONDS) and translate its event.

        Raises InvalidNotification for a missing or bad signature, a stale timestamp, a body that
        is not a Stripe event, an event of the other environment (livemode), or a known event whose
        object does not match Stripe's schema. Events of no interest are kind "ignored". The same
        event delivered twice gives two identical results (same provider_event_id): deduplication
        is the caller's. Writes nothing.
        """
        if not self._webhook_secret:
            raise InvalidNotification("no Stripe endpoint secret is configured")
        if isinstance(body, str):
            body = body.encode()
        if not isinstance(body, bytes | bytearray):
            raise InvalidNotification("the body must be bytes")
        signature = next(
            (value for name, value in (headers or {}).items() if str(name).lower() == "stripe-signature"), None
        )
        problem = ""
        try:
            self._client.construct_event(
                bytes(body), signature, self._webhook_secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError:
            problem = "bad or missing signature, or timestamp outside the tolerance"
        except (ValueError, TypeError, AttributeError, KeyError, UnicodeDecodeError):
            problem = "not a Stripe event"
        if problem:
            logger.warning("stripe notification rejected: %s", problem)
            raise InvalidNotification(problem)
        try:
            event = _event(json.loads(body), livemode=self._livemode)
        except (_BadEvent, ValueError) as exc:
            problem = f"schema: {exc}"
        if problem:
            logger.warning("stripe notification rejected: %s", problem)
            raise InvalidNotification(problem)
        return [event]

    # --- logging -------------------------------------------------------------------------------

    @staticmethod
    def _log_result(operation: str, idempotency_key: str, result: AcquirerResult, context: str = ""):
        level = logging.WARNING if result.outcome == Outcome.UNKNOWN else logging.INFO
        logger.log(
            level,
            "stripe %s key=%s %s -> %s %s reference=%s",
            operation,
            idempotency_key,
            context,
            result.outcome.value,
            result.failure_code or "-",
            result.reference or "-",
        )


def _is_fence(intent: dict) -> bool:
    metadata = intent.get("metadata")
    return isinstance(metadata, dict) and metadata.get(FENCE_METADATA_KEY) == "1"


def _authorization_params(
    card: CardData,
    amount: int,
    currency: str,
    idempotency_key: str,
    force_3ds: bool,
    shopper_present: bool,
    statement_descriptor: str,
    return_url: str,
) -> dict:
    # The only place the number and CVC are handled: the dict dies with the SDK call.
    card_fields = {"number": card.number, "exp_month": card.exp_month, "exp_year": card.exp_year}
    if card.cvc:
        card_fields["cvc"] = card.cvc
    method = {"type": "card", "card": card_fields}
    if card.holder:
        method["billing_details"] = {"name": card.holder[:200]}
    params = {
        "amount": amount,
        "currency": currency.lower(),
        "capture_method": "manual",
        "confirm": True,
        "payment_method_types": ["card"],
        "payment_method_data": method,
        "metadata": {METADATA_KEY: idempotency_key},
        "expand": ["latest_charge"],
    }
    suffix = _descriptor_suffix(statement_descriptor)
    if suffix:
        params["statement_descriptor_suffix"] = suffix
    if shopper_present:
        if return_url:
            params["return_url"] = return_url
        if force_3ds:
            params["payment_method_options"] = {"card": {"request_three_d_secure": "challenge"}}
    else:
        params["off_session"] = True
    return params
