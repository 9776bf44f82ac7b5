"""The Adyen connector: Checkout API v71 through Adyen's official Python library (`Adyen`).

What is sent
============

Every call goes through the library's ``AdyenClient`` built for this connector alone (one per
merchant and mode: never the library's module-level default client), authenticated with
``X-API-Key``, with the Checkout API version pinned to ``v71`` (``CHECKOUT_API_VERSION``) whatever
the library's default is. The library's HTTP layer is replaced by ``_Transport`` (the library
documents its ``HTTPClient.request`` as the hook for that): a ``requests`` session of our own with
no retries, no redirects followed, no proxy or ``.netrc`` from the environment, a connect and a
read timeout, and a request body whose ``repr`` is redacted.

====================================================  ==============================================
``POST /payments``                                    authorise: ``paymentMethod`` ``{type: scheme,
                                                      number, expiryMonth, expiryYear, cvc?,
                                                      holderName?}``, ``amount``, ``reference`` (our
                                                      idempotency key), ``merchantAccount``,
                                                      ``shopperInteraction``, ``additionalData
                                                      .manualCapture``, ``returnUrl``...
``POST /payments/details``                            the shopper came back from the challenge
``POST /payments/{pspReference}/captures``            capture (partial allowed)
``POST /payments/{pspReference}/cancels``             void
``POST /payments/{pspReference}/refunds``             refund (partial allowed)
``GET  /me`` (Management API v3)                      ``check_credentials``
====================================================  ==============================================

Capture is manual: every authorisation carries ``additionalData.manualCapture = "true"``, so the
merchant account's own capture delay setting does not matter (setting it to "manual" in the
Customer Area as well is recommended). A merchant-initiated charge (``shopper_present=False``) is
``shopperInteraction: ContAuth`` with ``recurringProcessingModel`` (``Subscription`` by default:
installments and subscription periods follow a schedule) and ``attemptAuthentication: never``.

Idempotency
===========

Adyen keeps an ``Idempotency-Key`` (at most 64 characters) for at least 31 days at company account
level and answers a repeated request with the answer of the first one, without performing it again.
Our key for an operation becomes ``<our key>.<operation>`` (``provider_idempotency_key``; a
hash when that is too long), so the same call made twice is one operation at Adyen, and the
authorisation and the inquiry that replays it share their key.

Adyen confirms captures, cancellations and refunds asynchronously: their answer ``201 received``
only says that the request was accepted. ``capture``, ``void`` and ``refund`` then return
``Outcome.SUCCEEDED`` meaning "accepted, confirmation follows": the money is settled only when the
``CAPTURE`` / ``CANCELLATION`` / ``REFUND`` notification says ``success: true``, and a
``CAPTURE_FAILED`` / ``REFUND_FAILED`` (or ``success: false``) undoes it.

Failures
========

* ``authorize``: a timeout, a dropped connection, a 5xx or an answer that does not parse after
  the request may have left is ``Outcome.UNKNOWN`` (resolved by ``inquire``); ``ERROR``
  ``processing_error`` when no byte reached Adyen or Adyen refused the request (4xx: nothing
  was authorised). Never retried by the connector: a retry is the inquiry.
* ``complete_3ds``, ``inquire``, ``capture``, ``void``, ``refund``: ``AcquirerUnavailable`` when
  the answer is unknown, and for a refused credential (401/403) or a request still in progress at
  Adyen (422 ``704``): nothing can be concluded, the caller tries again later with the same key.
* A refused modification (4xx validation, e.g. an amount above what remains) is
  ``Outcome.DECLINED`` ``processing_error`` with Adyen's message.

Card data
=========

The number and the security code exist only in the request dictionary built by
``_payment_request`` and in the redacted body the transport sends. The transport gives the
library back no copy of the request (the library would keep it in ``AdyenResult.raw_request`` and
in its exceptions), no exception we raise carries a library or ``requests`` exception, the
library does not log, and logs name the operation, the keys, the HTTP status, the result code and
the card's last four digits only. ``AcquirerResult.raw`` keeps a whitelist of answer fields.
"""

from __future__ import annotations

import binascii
import copy
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from Adyen import AdyenClient
from Adyen import settings as adyen_settings
from Adyen import util as adyen_util
from Adyen.exceptions import AdyenAPIResponseError, AdyenError
from Adyen.httpclient import HTTPClient
from Adyen.services import AdyenCheckoutApi, AdyenManagementApi
from requests.adapters import HTTPAdapter

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
from payplug.logging import mask_card_numbers

logger = logging.getLogger(__name__)

CHECKOUT_API_VERSION = 71
MANAGEMENT_API_VERSION = 3
TEST_CHECKOUT_URL = "https://checkout-test.adyen.com"
TEST_MANAGEMENT_URL = "https://management-test.adyen.com"
# How old a notification may be: Adyen retries an unacknowledged one for up to 30 days.
NOTIFICATION_MAX_AGE_SECONDS = 35 * 86400
NOTIFICATION_MAX_SKEW_SECONDS = 3600  # an eventDate this far in the future is not Adyen's

CARD_DECLINED = "card_declined"
PROCESSING_ERROR = "processing_error"
INCORRECT_NUMBER = "incorrect_number"
THREE_DS_DECLINED = "3ds_declined"
METHOD_UNSUPPORTED = "method_unsupported"

_GENERIC = (CARD_DECLINED, "The card was declined by the issuer.")
_NOT_ALLOWED = (CARD_DECLINED, "The card was declined: the card does not allow this kind of payment.")
_FRAUD = (CARD_DECLINED, "The card was declined (suspected fraud).")
_LIMIT = (CARD_DECLINED, "The card was declined: its spending limit was reached.")
_THREE_DS_FAILED = (THREE_DS_DECLINED, "3-D Secure authentication failed.")
_AUTHENTICATION_REQUIRED = (CARD_DECLINED, "The card was declined: the issuer requires 3-D Secure authentication.")
_PROCESSING = (PROCESSING_ERROR, "The acquirer reported a processing error.")

# Adyen's refusalReasonCode -> our failure code (spec §7.4) and English message.
# https://docs.adyen.com/development-resources/refusal-reasons/ ; unknown codes are generic.
REFUSAL_REASONS: dict[str, tuple[str, str]] = {
    "0": _GENERIC,  # Unknown
    "2": _GENERIC,  # Refused
    "3": (CARD_DECLINED, "The card was declined: the issuer asks for a referral."),
    "4": _PROCESSING,  # Acquirer Error
    "5": (CARD_DECLINED, "The card was declined: the card is blocked."),
    "6": (CARD_DECLINED, "The card was declined: it has expired."),
    "7": (CARD_DECLINED, "The card was declined: the amount is not valid for this card."),
    "8": (INCORRECT_NUMBER, "The card number does not exist."),
    "9": _PROCESSING,  # Issuer Unavailable
    "10": _NOT_ALLOWED,  # Not supported
    "11": _THREE_DS_FAILED,  # 3D Not Authenticated
    "12": (CARD_DECLINED, "The card was declined: insufficient funds."),
    "14": _FRAUD,  # Acquirer Fraud
    "15": (CARD_DECLINED, "The payment was cancelled before it completed."),
    "16": (THREE_DS_DECLINED, "The shopper cancelled the payment."),
    "17": _GENERIC,  # Invalid Pin
    "18": _GENERIC,  # Pin tries exceeded
    "19": _GENERIC,  # Pin validation not possible
    "20": _FRAUD,  # FRAUD (Adyen's risk checks)
    "21": _PROCESSING,  # Not Submitted
    "22": _FRAUD,  # FRAUD-CANCELLED
    "23": _NOT_ALLOWED,  # Transaction Not Permitted
    "24": (CARD_DECLINED, "The card was declined: the security code is incorrect."),
    "25": (CARD_DECLINED, "The card was declined: the card is restricted."),
    "26": (CARD_DECLINED, "The card was declined: the cardholder revoked the authorisation."),
    "27": _GENERIC,  # Declined Non Generic
    "28": _LIMIT,  # Withdrawal amount exceeded
    "29": _LIMIT,  # Withdrawal count exceeded
    "31": _FRAUD,  # Issuer Suspected Fraud
    "32": (CARD_DECLINED, "The card was declined: the address verification failed."),
    "33": _GENERIC,  # Card requires online pin
    "34": _GENERIC,  # No checking account available on Card
    "35": _GENERIC,  # No savings account available on Card
    "36": _GENERIC,  # Mobile pin required
    "37": _GENERIC,  # Contactless fallback
    "38": _AUTHENTICATION_REQUIRED,  # Authentication required
    "39": _THREE_DS_FAILED,  # RReq not received from DS
    "40": _GENERIC,  # Current AID is in Penalty Box
    "41": _GENERIC,  # CVM Required Restart Payment
    "42": _THREE_DS_FAILED,  # 3DS Authentication Error
    "43": _GENERIC,  # Online PIN required
    "44": _GENERIC,  # Try another interface
    "45": _GENERIC,  # Chip downgrade mode
    "46": (CARD_DECLINED, "The card was declined: blocked by the acquirer to prevent excessive retries."),
}
# The same, by Adyen's refusalReason text (a failed AUTHORISATION notification has only `reason`).
_REASON_TEXTS: dict[str, str] = {
    "refused": "2",
    "referral": "3",
    "acquirer error": "4",
    "blocked card": "5",
    "expired card": "6",
    "invalid amount": "7",
    "invalid card number": "8",
    "issuer unavailable": "9",
    "not supported": "10",
    "3d not authenticated": "11",
    "not enough balance": "12",
    "acquirer fraud": "14",
    "cancelled": "15",
    "shopper cancelled": "16",
    "fraud": "20",
    "not submitted": "21",
    "fraud-cancelled": "22",
    "transaction not permitted": "23",
    "cvc declined": "24",
    "restricted card": "25",
    "revocation of auth": "26",
    "declined non generic": "27",
    "withdrawal amount exceeded": "28",
    "withdrawal count exceeded": "29",
    "issuer suspected fraud": "31",
    "avs declined": "32",
    "authentication required": "38",
    "3ds authentication error": "42",
}
# A 4xx validation error on /payments that is the card's fault, not ours (Adyen's error codes).
_VALIDATION_DECLINES: dict[str, tuple[str, str]] = {
    "101": (INCORRECT_NUMBER, "The card number does not exist."),  # Invalid card number
    "102": (METHOD_UNSUPPORTED, "This card brand is not accepted."),  # Unable to determine variant
    "103": (CARD_DECLINED, "The card was declined: the security code is incorrect."),  # CVC wrong length
    "129": (CARD_DECLINED, "The card was declined: the expiry date is incorrect."),  # Expiry date not valid
    "905": (METHOD_UNSUPPORTED, "This card brand is not accepted."),  # Payment details not supported
}
IN_PROGRESS_ERROR = "704"  # "request already processed or in progress": the first one still runs

# Standard notification eventCode -> our AcquirerEvent kind (success "true", success "false").
NOTIFICATION_KINDS: dict[str, tuple[str, str]] = {
    "AUTHORISATION": ("authorized", "authorization_failed"),
    "CAPTURE": ("captured", "capture_failed"),
    "CAPTURE_FAILED": ("capture_failed", "capture_failed"),
    "REFUND": ("refunded", "refund_failed"),
    "REFUND_FAILED": ("refund_failed", "refund_failed"),
    # A failed cancellation has no kind of its own: the authorisation stands (see the docs page).
    "CANCELLATION": ("canceled", "ignored"),
    "NOTIFICATION_OF_CHARGEBACK": ("dispute_opened", "dispute_opened"),
    "CHARGEBACK": ("dispute_lost", "dispute_lost"),
    "SECOND_CHARGEBACK": ("dispute_lost", "dispute_lost"),
    "PREARBITRATION_LOST": ("dispute_lost", "dispute_lost"),
    "CHARGEBACK_REVERSED": ("dispute_won", "dispute_won"),
    "PREARBITRATION_WON": ("dispute_won", "dispute_won"),
}
_MODIFICATION_EVENTS = frozenset({"CAPTURE", "CAPTURE_FAILED", "REFUND", "REFUND_FAILED", "CANCELLATION"})

_THREE_DS_RESULT_CODES = frozenset({"RedirectShopper", "IdentifyShopper", "ChallengeShopper"})
# What the shopper may bring back from the challenge (the hosted page passes them to complete_3ds).
RETURN_DETAIL_FIELDS = frozenset({"redirectResult", "payload", "threeDSResult", "MD", "PaRes"})

_OUR_KEY = re.compile(r"[\x21-\x7e]{1,80}")  # Adyen's `reference` is at most 80 characters
_PSP_REFERENCE = re.compile(r"[A-Za-z0-9]{1,64}")
_LIVE_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,99}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_MACHINE_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_LONG_DIGITS = re.compile(r"[0-9]{3,}")
_RESULT_CODE = re.compile(r"[A-Za-z]{1,40}")
_RAW_FIELDS = frozenset(
    {"pspReference", "resultCode", "refusalReasonCode", "merchantReference", "status", "paymentPspReference"}
)
_RAW_ADDITIONAL_DATA = frozenset(
    {"threeDAuthenticated", "threeDOffered", "liabilityShift", "cardIssuingCountry", "issuerCountry"}
)
_TRANSPORT_ERRORS = (
    requests.ConnectionError,  # includes ConnectTimeout and SSLError
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def provider_idempotency_key(operation: str, idempotency_key: str) -> str:
    """The Idempotency-Key Adyen gets for one of our operations: deterministic, at most 64
    characters (Adyen's limit), different per operation so that a capture never replays an
    authorisation's answer."""
    candidate = f"{idempotency_key}.{operation}"
    if len(candidate) <= 64:
        return candidate
    return f"{operation[:14]}.{hashlib.sha256(idempotency_key.encode()).hexdigest()[:48]}"


def reference_with_details(psp_reference: str, details: Mapping[str, str]) -> str:
    """The `reference` to give `complete_3ds` when the shopper came back from Adyen's challenge:
    the payment's pspReference (possibly empty: Adyen gives it only after the details call)
    followed by what came back on the return URL (``redirectResult``; ``MD``/``PaRes`` or
    ``payload`` for older flows), as a query string: ``"8815...?redirectResult=X"``."""
    kept = {key: value for key, value in details.items() if key in RETURN_DETAIL_FIELDS and value}
    return f"{psp_reference}?{urlencode(sorted(kept.items()))}" if kept else psp_reference


def _split_reference(reference: str) -> tuple[str, dict[str, str]]:
    if not isinstance(reference, str):
        raise ValueError("reference must be a string")
    psp, _, query = reference.partition("?")
    if psp and not _PSP_REFERENCE.fullmatch(psp):
        raise ValueError("reference must start with Adyen's pspReference")
    details = {key: value for key, value in parse_qsl(query) if key in RETURN_DETAIL_FIELDS and value}
    return psp, details


class _RedactedBody(bytes):
    """A request body whose repr and str never show its content (it may hold a card)."""

    def __repr__(self):
        return f"<request body: {len(self)} bytes, redacted>"

    __str__ = __repr__


class _NoAnswer(Exception):
    """The transport got no HTTP answer. Holds no request, no `requests` exception."""

    def __init__(self, problem: str, delivered: bool):
        super().__init__(problem)
        self.problem = problem
        self.delivered = delivered


class _Transport(HTTPClient):
    """The library's HTTP client with our own session: no retries, no redirects, our timeouts."""

    def __init__(self, *, user_agent_suffix: str, connect_timeout: float, read_timeout: float, session):
        super().__init__(user_agent_suffix, adyen_settings.LIB_VERSION, force_request="requests")
        self.timeouts = (connect_timeout, read_timeout)
        self.session = session
        self.request = self._send  # the hook the library documents for "your own post method"

    def _send(self, method, url, json=None, data=None, username="", password="", xapikey="", headers=None):
        headers = dict(headers or {})
        headers["User-Agent"] = self.user_agent
        headers["Accept"] = "application/json"
        if xapikey:
            headers["X-API-Key"] = xapikey
        body = None
        if json is not None:
            body = _RedactedBody(_json_dumps(json))
            headers["Content-Type"] = "application/json"
        try:
            response = self.session.request(
                method, url, data=body, headers=headers, timeout=self.timeouts, allow_redirects=False
            )
        except _TRANSPORT_ERRORS as exc:
            # `from None`: the requests exception holds the prepared request, card included.
            raise _NoAnswer(network.describe(exc), delivered=not network.never_sent(exc)) from None
        # No copy of the request goes back: the library would keep it in results and exceptions.
        return response.text, None, response.status_code, response.headers


def _json_dumps(payload) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


class _Client(AdyenClient):
    """One merchant's client. With a configured base URL, the URLs are used as given (the library
    would otherwise rewrite "-test"/"-live" in them)."""

    def __init__(self, *, transport: _Transport, fixed_urls: bool, **kwargs):
        super().__init__(**kwargs)
        self._transport = transport
        self._fixed_urls = fixed_urls

    def _init_http_client(self):
        self.http_client = self._transport
        self.http_init = True

    def _determine_api_url(self, platform, endpoint):
        return endpoint if self._fixed_urls else super()._determine_api_url(platform, endpoint)


def _checked_base_url(url: str) -> str:
    """https:// anything; http:// only to a loopback host (a local stand-in of Adyen's API)."""
    return network.checked_base_url(url, "The Adyen base URL")


@dataclass(frozen=True)
class _Reply:
    """One exchange: `problem` is empty when `status` and `data` are Adyen's definitive answer."""

    status: int | None
    data: dict | None
    problem: str = ""
    delivered: bool = True

    @property
    def error_code(self) -> str:
        return _code((self.data or {}).get("errorCode"))

    @property
    def refused(self) -> bool:
        return not self.problem and self.status is not None and 400 <= self.status < 500


def _code(value) -> str:
    return value if isinstance(value, str) and _MACHINE_CODE.fullmatch(value) else ""


def _text(value, limit: int = 200) -> str:
    return mask_card_numbers(value[:limit]) if isinstance(value, str) else ""


def _safe_raw(data: dict | None) -> dict:
    if not isinstance(data, dict):
        return {}
    raw = {key: _text(data[key], 80) for key in _RAW_FIELDS if isinstance(data.get(key), str)}
    additional = data.get("additionalData")
    if isinstance(additional, dict):
        kept = {key: _text(additional[key], 40) for key in _RAW_ADDITIONAL_DATA if isinstance(additional.get(key), str)}
        if kept:
            raw["additionalData"] = kept
    action = data.get("action")
    if isinstance(action, dict):
        raw["action"] = {
            key: _text(action[key], 2000) for key in ("type", "method", "url") if isinstance(action.get(key), str)
        }
        if isinstance(action.get("data"), dict):  # a POST redirect's form fields (PaReq, MD, TermUrl)
            raw["action"]["data"] = {
                str(key)[:40]: _text(value, 4000) for key, value in action["data"].items() if isinstance(value, str)
            }
    for key in ("errorCode", "errorType"):
        if _code(data.get(key)):
            raw[key] = data[key]
    return raw


def _with_reason(message: str, reason) -> str:
    # Adyen's free text could quote anything: runs of 3+ digits (a security code, a card number)
    # never pass.
    reason = _LONG_DIGITS.sub("***", _text(reason, 120))
    return f"{message} (Adyen: {reason})" if reason else message


def _refusal(code, reason) -> tuple[str, str]:
    """Our failure code and message for Adyen's refusalReasonCode (or, without one, its text)."""
    if isinstance(code, int) and not isinstance(code, bool):
        code = str(code)
    if not isinstance(code, str) or code not in REFUSAL_REASONS:
        code = _REASON_TEXTS.get(reason.strip().lower(), "") if isinstance(reason, str) else ""
    failure_code, message = REFUSAL_REASONS.get(code, _GENERIC)
    return failure_code, _with_reason(message, reason)


def _is_redirect_url(url) -> bool:
    if not isinstance(url, str) or len(url) > 4000:
        return False
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and network.is_loopback(parts.hostname or ""))


class AdyenAcquirer(Acquirer):
    """Adyen's Checkout API for one merchant and mode (see the module docstring and
    docs/acquirers/adyen.md). Raises ValueError at construction for an unusable configuration."""

    name = "adyen"

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        live_url_prefix: str = "",
        management_base_url: str = "",
        currency: str = "EUR",
        recurring_processing_model: str = "Subscription",
        application_name: str = "payplatform",
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
    ):
        if not config.api_key:
            raise ValueError("An Adyen API key is required.")
        if not config.merchant_account:
            raise ValueError("An Adyen merchant account is required.")
        if not config.timeout or config.timeout <= 0:
            raise ValueError("The Adyen timeout must be positive.")
        if not _CURRENCY.fullmatch(currency):
            raise ValueError("currency must be a three-letter ISO 4217 code")
        if config.webhook_secret:
            try:
                binascii.a2b_hex(config.webhook_secret)
            except (binascii.Error, ValueError):
                raise ValueError("The Adyen HMAC key must be hexadecimal.") from None
        if live_url_prefix and not _LIVE_PREFIX.fullmatch(live_url_prefix):
            raise ValueError("The Adyen live URL prefix must be letters, digits and dashes.")
        self.test_environment = config.test_environment
        self.merchant_account = config.merchant_account
        self.currency = currency
        self.recurring_processing_model = recurring_processing_model
        self._hmac_key = config.webhook_secret
        self._clock = clock
        if config.base_url:
            checkout_root = _checked_base_url(config.base_url)
            management_root = _checked_base_url(management_base_url or config.base_url)
        else:
            if not config.test_environment and not live_url_prefix:
                raise ValueError("Adyen's live endpoints need the merchant's live URL prefix (live_url_prefix).")
            checkout_root = TEST_CHECKOUT_URL  # the library turns it into the live URL with the prefix
            management_root = _checked_base_url(management_base_url) if management_base_url else TEST_MANAGEMENT_URL
        self.checkout_url = f"{checkout_root}/v{CHECKOUT_API_VERSION}"
        management_url = f"{management_root}/v{MANAGEMENT_API_VERSION}"
        read_timeout = float(config.timeout)
        session = session or requests.Session()
        session.trust_env = False  # no proxy, .netrc or CA bundle from the environment
        adapter = HTTPAdapter(max_retries=0)  # we decide what is safe to retry
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        transport = _Transport(
            user_agent_suffix=f"{application_name} {adyen_settings.LIB_NAME}/",
            connect_timeout=min(3.0, read_timeout / 2),
            read_timeout=read_timeout,
            session=session,
        )
        self._client = _Client(
            transport=transport,
            fixed_urls=bool(config.base_url),
            xapikey=config.api_key,
            merchant_account=config.merchant_account,
            platform="test" if config.test_environment else "live",
            live_endpoint_prefix=live_url_prefix or None,
            http_timeout=int(read_timeout) or 1,
        )
        checkout = AdyenCheckoutApi(client=self._client)
        self._payments = checkout.payments_api
        self._modifications = checkout.modifications_api
        self._payments.baseUrl = self.checkout_url
        self._modifications.baseUrl = self.checkout_url
        self._me = AdyenManagementApi(client=self._client).my_api_credential_api
        self._me.baseUrl = management_url

    def __repr__(self):
        return f"AdyenAcquirer(merchant_account={self.merchant_account!r}, checkout_url={self.checkout_url!r})"

    # --- exchanges ------------------------------------------------------------------------------

    def _exchange(self, operation: str, invoke: Callable, *, key: str = "", context: str = "") -> _Reply:
        """One call through the library, never retried. Never raises for Adyen's answers."""
        try:
            result = invoke()
        except _NoAnswer as exc:
            logger.warning("adyen %s key=%s %s: %s", operation, key, context, exc.problem)
            return _Reply(status=None, data=None, problem=exc.problem, delivered=exc.delivered)
        except AdyenAPIResponseError as exc:
            status = exc.status_code if isinstance(exc.status_code, int) else None
            data = exc.message if isinstance(exc.message, dict) else None
            logger.info(
                "adyen %s key=%s %s HTTP %s %s", operation, key, context, status, _code((data or {}).get("errorCode"))
            )
            if status is None or not 400 <= status < 500:
                return _Reply(status=status, data=None, problem=f"HTTP {status}")
            return _Reply(status=status, data=data)
        except AdyenError as exc:  # the library refused to send (a configuration problem)
            logger.error("adyen %s key=%s refused by the library: %s", operation, key, type(exc).__name__)
            return _Reply(status=None, data=None, problem="not sent", delivered=False)
        except (AttributeError, TypeError, ValueError, KeyError):  # the library choked on the answer
            logger.warning("adyen %s key=%s %s: malformed answer", operation, key, context)
            return _Reply(status=None, data=None, problem="malformed answer")
        data = result.message
        logger.info("adyen %s key=%s %s HTTP %s", operation, key, context, result.status_code)
        if not isinstance(data, dict) or not data:
            return _Reply(status=result.status_code, data=None, problem="malformed answer")
        return _Reply(status=result.status_code, data=data)

    def _payment_request(
        self,
        card: CardData,
        amount: int,
        currency: str,
        idempotency_key: str,
        force_3ds: bool,
        shopper_present: bool,
        statement_descriptor: str,
        return_url: str,
    ) -> dict:
        # The only place the number and CVC are handled: the dict dies with the authorize frame.
        payment_method = {
            "type": "scheme",
            "number": card.number,
            "expiryMonth": f"{card.exp_month:02d}",
            "expiryYear": str(card.exp_year),
        }
        if card.cvc:
            payment_method["cvc"] = card.cvc
        if card.holder:
            payment_method["holderName"] = card.holder
        request = {
            "merchantAccount": self.merchant_account,
            "reference": idempotency_key,
            "amount": {"currency": currency, "value": amount},
            "paymentMethod": payment_method,
            "additionalData": {"manualCapture": "true"},
        }
        if shopper_present:
            request["shopperInteraction"] = "Ecommerce"
            request["channel"] = "Web"
            if force_3ds:
                request["authenticationData"] = {"attemptAuthentication": "always"}
        else:
            request["shopperInteraction"] = "ContAuth"
            request["recurringProcessingModel"] = self.recurring_processing_model
            request["authenticationData"] = {"attemptAuthentication": "never"}
        if return_url:
            request["returnUrl"] = return_url
        if statement_descriptor:
            request["shopperStatement"] = statement_descriptor[:135]
        return request

    # --- operations -----------------------------------------------------------------------------

    def authorize(
        self,
        *,
        card: CardData,
        amount,
        currency,
        idempotency_key,
        force_3ds=False,
        shopper_present=True,
        statement_descriptor="",
        return_url="",
    ):
        """POST /payments (see Acquirer.authorize). `return_url`: where Adyen sends the shopper
        back after a challenge (our hosted page); Adyen asks for it with every e-commerce payment."""
        _check_key(idempotency_key)
        _check_amount(amount)
        if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
            raise ValueError("currency must be a three-letter ISO 4217 code")
        if not (isinstance(card.number, str) and card.number.isdigit() and 12 <= len(card.number) <= 19):
            raise ValueError("the card number must be 12 to 19 digits")  # never echo the number
        if return_url and not _is_redirect_url(return_url):
            raise ValueError("return_url must be an https:// URL")
        context = f"last4={card.number[-4:]}"
        request = self._payment_request(
            card, amount, currency, idempotency_key, force_3ds, shopper_present, statement_descriptor, return_url
        )
        header_key = provider_idempotency_key("payments", idempotency_key)
        reply = self._exchange(
            "authorize",
            lambda: self._payments.payments(request, idempotency_key=header_key),
            key=idempotency_key,
            context=context,
        )
        result = self._authorization_outcome(reply, idempotency_key)
        if result.outcome == Outcome.REQUIRES_3DS and not shopper_present:
            # No challenge without the shopper: nothing is authorised while one waits, so a refusal.
            logger.warning("adyen authorize key=%s asked for 3-D Secure without a shopper", idempotency_key)
            code, message = _AUTHENTICATION_REQUIRED
            result = AcquirerResult(
                outcome=Outcome.DECLINED,
                reference=result.reference,
                failure_code=code,
                failure_message=message,
                raw=result.raw,
            )
        self._log_result("authorize", idempotency_key, result, context)
        return result

    def _authorization_outcome(self, reply: _Reply, idempotency_key: str) -> AcquirerResult:
        if reply.problem:
            if not reply.delivered:
                return AcquirerResult(
                    outcome=Outcome.ERROR,
                    failure_code=PROCESSING_ERROR,
                    failure_message="Adyen could not be reached; nothing was authorised.",
                )
            return AcquirerResult(
                outcome=Outcome.UNKNOWN, failure_message=f"Adyen's answer is unknown ({reply.problem})."
            )
        if reply.refused:
            raw = _safe_raw(reply.data)
            if reply.error_code == IN_PROGRESS_ERROR:
                return AcquirerResult(outcome=Outcome.UNKNOWN, raw=raw, failure_message="Adyen is still processing it.")
            if reply.error_code in _VALIDATION_DECLINES and reply.status in (400, 422):
                code, message = _VALIDATION_DECLINES[reply.error_code]
                return AcquirerResult(outcome=Outcome.DECLINED, failure_code=code, failure_message=message, raw=raw)
            log = logger.error if reply.status in (401, 403) else logger.warning
            log("adyen refused an authorisation request with HTTP %s (%s)", reply.status, reply.error_code or "no code")
            return AcquirerResult(
                outcome=Outcome.ERROR,
                failure_code=PROCESSING_ERROR,
                failure_message=_with_reason(
                    f"Adyen refused the request (HTTP {reply.status}).", (reply.data or {}).get("message")
                ),
                raw=raw,
            )
        result = self._payment_result(reply.data, idempotency_key, after_challenge=False)
        if result is None:
            logger.warning("adyen sent an authorisation answer it does not understand")
            return AcquirerResult(
                outcome=Outcome.UNKNOWN, failure_message="Adyen's answer is unknown (malformed answer)."
            )
        return result

    @staticmethod
    def _payment_result(data: dict | None, idempotency_key: str, *, after_challenge: bool) -> AcquirerResult | None:
        """Read a /payments or /payments/details answer; None when it is not one we can trust."""
        if not isinstance(data, dict):
            return None
        result_code = data.get("resultCode")
        if not isinstance(result_code, str) or not _RESULT_CODE.fullmatch(result_code):
            return None
        merchant_reference = data.get("merchantReference")
        if merchant_reference is not None and merchant_reference != idempotency_key:
            return None  # the answer of another payment: never take it for ours
        psp = data.get("pspReference")
        psp = psp if isinstance(psp, str) and _PSP_REFERENCE.fullmatch(psp) else ""
        additional = data.get("additionalData") if isinstance(data.get("additionalData"), dict) else {}
        authenticated = str(additional.get("threeDAuthenticated", "")).lower() == "true"
        country = additional.get("cardIssuingCountry") or additional.get("issuerCountry")
        country = country.upper() if isinstance(country, str) and _COUNTRY.fullmatch(country.upper()) else ""
        raw = _safe_raw(data)
        if result_code == "Authorised":
            if not psp:
                return None
            return AcquirerResult(
                outcome=Outcome.AUTHORIZED,
                reference=psp,
                is_3ds=after_challenge or authenticated,
                three_ds_frictionless=authenticated and not after_challenge,
                card_country=country,
                raw=raw,
            )
        if result_code in _THREE_DS_RESULT_CODES:
            action = data.get("action") if isinstance(data.get("action"), dict) else {}
            url = action.get("url") if action.get("type") == "redirect" else ""
            if url and not _is_redirect_url(url):
                return None
            if not url:
                # A native 3DS2 action: we never ask for one (no nativeThreeDS), so no page can run it.
                logger.warning("adyen asked for a %s action without a redirect URL", _code(action.get("type")) or "?")
            return AcquirerResult(
                outcome=Outcome.REQUIRES_3DS, reference=psp, is_3ds=True, redirect_url=url or "", raw=raw
            )
        if result_code == "Refused":
            code, message = _refusal(data.get("refusalReasonCode"), data.get("refusalReason"))
            if after_challenge and code == CARD_DECLINED and str(data.get("refusalReasonCode")) in ("15", "16"):
                code = THREE_DS_DECLINED
            outcome = Outcome.ERROR if code == PROCESSING_ERROR else Outcome.DECLINED
            return AcquirerResult(
                outcome=outcome,
                reference=psp,
                failure_code=code,
                failure_message=message,
                is_3ds=after_challenge or authenticated or code == THREE_DS_DECLINED,
                card_country=country,
                raw=raw,
            )
        if result_code == "Cancelled":
            code, message = _THREE_DS_FAILED if after_challenge else REFUSAL_REASONS["15"]
            return AcquirerResult(
                outcome=Outcome.DECLINED,
                reference=psp,
                failure_code=code,
                failure_message=_with_reason(message, data.get("refusalReason")),
                is_3ds=after_challenge,
                raw=raw,
            )
        if result_code == "Error":
            code, message = _PROCESSING
            return AcquirerResult(
                outcome=Outcome.ERROR,
                reference=psp,
                failure_code=code,
                failure_message=_with_reason(message, data.get("refusalReason")),
                is_3ds=after_challenge,
                raw=raw,
            )
        if result_code in ("Pending", "Received"):
            return AcquirerResult(
                outcome=Outcome.UNKNOWN,
                reference=psp,
                is_3ds=after_challenge,
                raw=raw,
                failure_message="Adyen has not decided yet.",
            )
        return None

    def complete_3ds(self, *, reference, authenticated, idempotency_key):
        """The shopper is back from Adyen's challenge page (see Acquirer.complete_3ds).

        `reference` is the payment's pspReference, followed by what the shopper brought back on
        the return URL when something did (``reference_with_details``): the hosted page reads
        ``redirectResult`` from the query string of the return URL Adyen redirected to (or the
        ``MD``/``PaRes`` form fields of an older flow) and passes it there. With details, they go
        to ``POST /payments/details`` and Adyen's answer is the outcome, whatever `authenticated`
        says (the page cannot know better than Adyen). Without details nothing can be completed:
        DECLINED ``3ds_declined`` without asking Adyen's details endpoint; for an abandoned
        challenge (`authenticated=False`) with a known pspReference, the payment is also
        cancelled at Adyen, best effort, so that nothing can authorise it later.
        """
        _check_key(idempotency_key)
        psp, details = _split_reference(reference)
        if not details:
            if not authenticated and psp:
                self._cancel_abandoned(psp, idempotency_key)
            message = "3-D Secure authentication failed." if not authenticated else "3-D Secure was not completed."
            result = AcquirerResult(
                outcome=Outcome.DECLINED,
                reference=psp,
                failure_code=THREE_DS_DECLINED,
                failure_message=message,
                is_3ds=True,
            )
            self._log_result("complete_3ds", idempotency_key, result)
            return result
        request = {"details": details}
        header_key = provider_idempotency_key("details", idempotency_key)
        reply = self._exchange(
            "complete_3ds",
            lambda: self._payments.payments_details(request, idempotency_key=header_key),
            key=idempotency_key,
        )
        unavailable = f"3-D Secure completion with idempotency key {idempotency_key}"
        if reply.problem:
            raise AcquirerUnavailable(f"{unavailable}: {reply.problem}")
        if reply.refused:
            if reply.status in (401, 403, 429) or reply.error_code == IN_PROGRESS_ERROR:
                logger.error("adyen complete_3ds key=%s: HTTP %s", idempotency_key, reply.status)
                raise AcquirerUnavailable(f"{unavailable}: HTTP {reply.status}, try again later")
            # The details were refused (expired or invalid redirectResult): the challenge failed.
            result = AcquirerResult(
                outcome=Outcome.DECLINED,
                reference=psp,
                failure_code=THREE_DS_DECLINED,
                failure_message=_with_reason("3-D Secure authentication failed.", (reply.data or {}).get("message")),
                is_3ds=True,
                raw=_safe_raw(reply.data),
            )
        else:
            result = self._details_result(reply.data)
            if result is None or result.outcome == Outcome.UNKNOWN:
                raise AcquirerUnavailable(
                    f"{unavailable}: {'malformed answer' if result is None else 'still processing'}"
                )
        if not result.reference:
            result.reference = psp
        self._log_result("complete_3ds", idempotency_key, result)
        return result

    def _details_result(self, data: dict | None) -> AcquirerResult | None:
        # /payments/details echoes the payment's merchantReference, which is the attempt's key.
        reference = data.get("merchantReference") if isinstance(data, dict) else None
        return self._payment_result(data, reference if isinstance(reference, str) else "", after_challenge=True)

    def _cancel_abandoned(self, psp: str, idempotency_key: str) -> None:
        request = {"merchantAccount": self.merchant_account, "reference": idempotency_key}
        header_key = provider_idempotency_key("abandon", idempotency_key)
        reply = self._exchange(
            "abandon",
            lambda: self._modifications.cancel_authorised_payment_by_psp_reference(
                request, psp, idempotency_key=header_key
            ),
            key=idempotency_key,
        )
        if reply.problem or reply.refused:
            logger.warning(
                "adyen abandon key=%s: the cancellation was not taken (%s)",
                idempotency_key,
                reply.problem or reply.status,
            )

    def inquire(self, *, idempotency_key):
        """Resolve an authorisation whose answer was lost, by Adyen's own idempotency.

        The same ``POST /payments`` is replayed with the same Idempotency-Key, but without any
        card data (``paymentMethod: {type: scheme}`` only, amount 0). Adyen answers a key it
        already processed with the stored answer of the first request, whatever the new body:
        that answer is the outcome. If the first request never arrived, the replay is a new
        request with no card: Adyen refuses it as invalid (a 4xx validation error), nothing can be
        authorised by it, and its key is now taken by that refusal, so the first request, should it
        still arrive, gets the refusal instead of an authorisation. Either way no second
        authorisation can result: the only request that carries a card is the first one, and the
        key lets Adyen run it at most once. A first request still running at Adyen gets 422
        ``704`` ("in progress"): AcquirerUnavailable, ask again later.

        When the replay says the challenge is still open, the lost answer may be that of the
        3-D Secure completion (our key + "-3ds", as payments.services names it): its details call
        is replayed the same way, without details.
        """
        _check_key(idempotency_key)
        request = {
            "merchantAccount": self.merchant_account,
            "reference": idempotency_key,
            "amount": {"currency": self.currency, "value": 0},
            "paymentMethod": {"type": "scheme"},
        }
        header_key = provider_idempotency_key("payments", idempotency_key)
        reply = self._exchange(
            "inquire", lambda: self._payments.payments(request, idempotency_key=header_key), key=idempotency_key
        )
        result = self._inquiry_result(
            reply, idempotency_key, lambda data: self._payment_result(data, idempotency_key, after_challenge=False)
        )
        if result.outcome == Outcome.REQUIRES_3DS:
            completion = self._inquire_completion(idempotency_key + "-3ds")
            if completion is not None:
                if not completion.reference:
                    completion.reference = result.reference
                result = completion
        self._log_result("inquire", idempotency_key, result)
        return result

    def _inquire_completion(self, completion_key: str) -> AcquirerResult | None:
        request = {"details": {"redirectResult": "inquiry"}}
        header_key = provider_idempotency_key("details", completion_key)
        reply = self._exchange(
            "inquire", lambda: self._payments.payments_details(request, idempotency_key=header_key), key=completion_key
        )
        if reply.refused and reply.status in (400, 422) and reply.error_code != IN_PROGRESS_ERROR:
            return None  # no completion was ever made: the challenge is still open
        return self._inquiry_result(reply, completion_key, self._details_result)

    @staticmethod
    def _inquiry_result(
        reply: _Reply, key: str, read: Callable[[dict | None], AcquirerResult | None]
    ) -> AcquirerResult:
        unavailable = f"inquiry for idempotency key {key}"
        if reply.problem:
            raise AcquirerUnavailable(f"{unavailable}: {reply.problem}")
        if reply.refused:
            validation = (reply.data or {}).get("errorType") == "validation"
            if reply.status in (400, 422) and validation and reply.error_code != IN_PROGRESS_ERROR:
                return AcquirerResult(
                    outcome=Outcome.DECLINED,
                    failure_code=PROCESSING_ERROR,
                    failure_message="Adyen has no record of this authorisation.",
                    raw=_safe_raw(reply.data),
                )
            # Nothing can be concluded (a wrong credential must never settle a payment as failed).
            logger.error(
                "adyen inquire key=%s refused with HTTP %s (%s)", key, reply.status, reply.error_code or "no code"
            )
            raise AcquirerUnavailable(f"{unavailable}: HTTP {reply.status}")
        result = read(reply.data)
        if result is None or result.outcome == Outcome.UNKNOWN:
            raise AcquirerUnavailable(f"{unavailable}: {'malformed answer' if result is None else 'still processing'}")
        return result

    def capture(self, *, reference, amount, idempotency_key):
        """POST /payments/{reference}/captures, all or part of the authorisation.

        SUCCEEDED means Adyen *received* the capture ("status": "received"): it is confirmed
        asynchronously. The caller must wait for the CAPTURE notification (``captured``) before
        counting the money as settled; a CAPTURE_FAILED (``capture_failed``) undoes it."""
        _check_amount(amount)
        request = {
            "merchantAccount": self.merchant_account,
            "amount": {"currency": self.currency, "value": amount},
            "reference": idempotency_key,
        }
        return self._modification(
            "capture", self._modifications.capture_authorised_payment, request, reference, idempotency_key
        )

    def void(self, *, reference, idempotency_key):
        """POST /payments/{reference}/cancels. SUCCEEDED means "received": the CANCELLATION
        notification (``canceled``) confirms it."""
        request = {"merchantAccount": self.merchant_account, "reference": idempotency_key}
        return self._modification(
            "void", self._modifications.cancel_authorised_payment_by_psp_reference, request, reference, idempotency_key
        )

    def refund(self, *, reference, amount, idempotency_key):
        """POST /payments/{reference}/refunds, all or part of what was captured. The result's
        `reference` is the refund's own pspReference. SUCCEEDED means "received": the REFUND
        notification (``refunded``) confirms it, a REFUND_FAILED (``refund_failed``) undoes it."""
        _check_amount(amount)
        request = {
            "merchantAccount": self.merchant_account,
            "amount": {"currency": self.currency, "value": amount},
            "reference": idempotency_key,
        }
        return self._modification(
            "refund", self._modifications.refund_captured_payment, request, reference, idempotency_key
        )

    def _modification(self, operation: str, method, request: dict, reference, idempotency_key) -> AcquirerResult:
        _check_key(idempotency_key)
        if not isinstance(reference, str) or not _PSP_REFERENCE.fullmatch(reference):
            raise ValueError("reference must be Adyen's pspReference of the payment")
        header_key = provider_idempotency_key(f"{operation}s", idempotency_key)
        reply = self._exchange(
            operation, lambda: method(request, reference, idempotency_key=header_key), key=idempotency_key
        )
        unavailable = f"{operation} with idempotency key {idempotency_key}"
        if reply.problem:
            raise AcquirerUnavailable(f"{unavailable}: {reply.problem}")
        raw = _safe_raw(reply.data)
        if reply.refused:
            if reply.status in (401, 403, 404, 429) or reply.error_code == IN_PROGRESS_ERROR:
                logger.error(
                    "adyen %s key=%s: HTTP %s (%s)",
                    operation,
                    idempotency_key,
                    reply.status,
                    reply.error_code or "no code",
                )
                raise AcquirerUnavailable(f"{unavailable}: HTTP {reply.status}, try again later")
            result = AcquirerResult(
                outcome=Outcome.DECLINED,
                reference=reference,
                failure_code=PROCESSING_ERROR,
                failure_message=_with_reason(f"Adyen refused the {operation}.", (reply.data or {}).get("message")),
                raw=raw,
            )
            self._log_result(operation, idempotency_key, result)
            return result
        own = reply.data.get("pspReference")
        if reply.data.get("status") != "received" or not isinstance(own, str) or not _PSP_REFERENCE.fullmatch(own):
            raise AcquirerUnavailable(f"{unavailable}: malformed answer")
        if reply.data.get("paymentPspReference") not in (None, reference):
            raise AcquirerUnavailable(f"{unavailable}: the answer is about another payment")
        result = AcquirerResult(
            outcome=Outcome.SUCCEEDED, reference=own if operation == "refund" else reference, raw=raw
        )
        self._log_result(operation, idempotency_key, result)
        return result

    def check_credentials(self) -> tuple[bool, str]:
        """GET /me (Management API): whether the API key works and may use our merchant account,
        with the reason when not. Raises AcquirerUnavailable when Adyen cannot be reached."""
        reply = self._exchange("check_credentials", lambda: self._me.get_api_credential_details())
        if reply.problem:
            raise AcquirerUnavailable(f"credential check: {reply.problem}")
        if reply.refused:
            return False, f"Adyen refused the API key (HTTP {reply.status})."
        if reply.data.get("active") is False:
            return False, "The API credential is not active."
        accounts = reply.data.get("associatedMerchantAccounts")
        if isinstance(accounts, list) and accounts and self.merchant_account not in accounts:
            return False, "The API credential may not use this merchant account."
        return True, ""

    # --- notifications --------------------------------------------------------------------------

    @staticmethod
    def acknowledgement() -> tuple[str, str]:
        """What the webhook endpoint answers (HTTP 200) once a notification was verified and stored:
        Adyen wants ``[accepted]``, or it retries."""
        return "[accepted]", "text/plain"

    def parse_notification(self, body: bytes, headers: dict[str, str]) -> list[AcquirerEvent]:
        """Verify and translate a standard notification (``notificationItems[].NotificationRequestItem``).

        Every item must be for our merchant account and environment, carry a valid HMAC
        signature (``additionalData.hmacSignature``, checked with the library's
        ``is_valid_hmac_notification``), and an ``eventDate`` neither older than
        NOTIFICATION_MAX_AGE_SECONDS nor in the future; otherwise the whole batch is rejected
        (InvalidNotification) and nothing is returned. Adyen's signature does not cover
        ``eventDate``: duplicates are told apart by ``provider_event_id``, made of signed fields
        only. Writes nothing."""
        if not self._hmac_key:
            raise InvalidNotification("No HMAC key is configured for Adyen notifications.")
        try:
            payload = json.loads(body)
        except (TypeError, ValueError):
            raise InvalidNotification("The notification is not JSON.") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("notificationItems"), list):
            raise InvalidNotification("The notification has no notificationItems.")
        items = payload["notificationItems"]
        if not items or len(items) > 100:
            raise InvalidNotification("The notification has no items, or too many.")
        live = payload.get("live")
        if live not in ("true", "false") or (live == "true") == self.test_environment:
            raise InvalidNotification("The notification is for the other environment.")
        events = []
        for wrapper in items:
            item = wrapper.get("NotificationRequestItem") if isinstance(wrapper, dict) else None
            events.append(self._notification_event(item))
        return events

    def _notification_event(self, item) -> AcquirerEvent:
        if not isinstance(item, dict):
            raise InvalidNotification("A notification item is not an object.")
        amount = item.get("amount")
        for field in ("eventCode", "pspReference", "merchantAccountCode", "eventDate"):
            if not isinstance(item.get(field), str) or not item[field]:
                raise InvalidNotification(f"A notification item has no {field}.")
        if item.get("success") not in ("true", "false"):
            raise InvalidNotification("A notification item has no success flag.")
        if (
            not isinstance(amount, dict)
            or not isinstance(amount.get("value"), int)
            or isinstance(amount.get("value"), bool)
        ):
            raise InvalidNotification("A notification item has no amount.")
        if not isinstance(amount.get("currency"), str):
            raise InvalidNotification("A notification item has no currency.")
        for field in ("originalReference", "merchantReference", "reason"):
            if item.get(field) is not None and not isinstance(item[field], str):
                raise InvalidNotification(f"A notification item has a malformed {field}.")
        additional = item.get("additionalData")
        if not isinstance(additional, dict) or not isinstance(additional.get("hmacSignature"), str):
            raise InvalidNotification("A notification item is not signed.")
        try:
            valid = adyen_util.is_valid_hmac_notification(copy.deepcopy(item), self._hmac_key)
        except (ValueError, KeyError, TypeError, binascii.Error):
            valid = False
        if not valid:
            logger.warning("adyen notification rejected: bad HMAC signature (%s)", _code(item["eventCode"]) or "?")
            raise InvalidNotification("A notification item has a bad HMAC signature.")
        if item["merchantAccountCode"] != self.merchant_account:
            raise InvalidNotification("A notification item is for another merchant account.")
        created_at = _timestamp(item["eventDate"])
        now = self._clock()
        if (
            created_at is None
            or created_at < now - NOTIFICATION_MAX_AGE_SECONDS
            or created_at > now + NOTIFICATION_MAX_SKEW_SECONDS
        ):
            raise InvalidNotification("A notification item has a stale or malformed eventDate.")
        event_code, success = item["eventCode"], item["success"] == "true"
        original = item.get("originalReference") or ""
        kinds = NOTIFICATION_KINDS.get(event_code)
        kind = "ignored" if kinds is None else kinds[0 if success else 1]
        failure_code = failure_message = ""
        reason = _text(item.get("reason"), 200)
        if kind == "authorization_failed":
            failure_code, failure_message = _refusal(None, item.get("reason"))
        elif kind in ("capture_failed", "refund_failed") or (event_code == "CANCELLATION" and not success):
            failure_code, failure_message = (
                PROCESSING_ERROR,
                _with_reason(f"Adyen reports {event_code} failed.", reason),
            )
        elif kind.startswith("dispute_"):
            code = _code(additional.get("chargebackReasonCode"))
            failure_message = f"{reason} ({code})" if reason and code else (reason or code)
        modification = event_code in _MODIFICATION_EVENTS or (kind.startswith("dispute_") and original)
        return AcquirerEvent(
            kind=kind,
            provider_event_id=f"adyen:{event_code}:{item['pspReference']}:{original}:{item['success']}",
            reference=(original or item["pspReference"]) if modification else item["pspReference"],
            idempotency_key=item.get("merchantReference") or "",
            amount=amount["value"],
            currency=amount["currency"],
            operation_reference=item["pspReference"] if modification and original else "",
            failure_code=failure_code,
            failure_message=failure_message,
            created_at=created_at,
            raw_type=_code(event_code) or "unknown",
        )

    @staticmethod
    def _log_result(operation: str, idempotency_key: str, result: AcquirerResult, context: str = ""):
        level = logging.WARNING if result.outcome == Outcome.UNKNOWN else logging.INFO
        logger.log(
            level,
            "adyen %s key=%s %s -> %s %s reference=%s",
            operation,
            idempotency_key,
            context,
            result.outcome.value,
            result.failure_code or "-",
            result.reference or "-",
        )


def _timestamp(value: str) -> int | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return int(moment.timestamp())


def _check_key(idempotency_key) -> None:
    if not isinstance(idempotency_key, str) or not _OUR_KEY.fullmatch(idempotency_key):
        raise ValueError("idempotency_key must be 1 to 80 printable ASCII characters without spaces")


def _check_amount(amount) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValueError("amount must be a positive integer number of cents")
