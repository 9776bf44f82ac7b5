"""The live acquirer: a JSON-over-HTTPS client (`requests`), safe to retry and to reconcile.

Wire protocol
=============

Base URL ``ACQUIRER_URL`` (HTTPS; plain HTTP only for a loopback host, which tests and local
fakes use). Every request carries ``Authorization: Bearer <ACQUIRER_API_KEY>``,
``Accept: application/json`` and ``Idempotency-Key: <key>``; bodies are JSON objects.

The acquirer promises:

* An ``Idempotency-Key`` names one operation. A request repeated with the same key and body
  returns the stored answer of the first one and never performs the operation twice. While the
  first request is still being processed, a repeat gets ``409``; the same key with another body
  also gets ``409``.
* A ``4xx`` answer means the request was refused and nothing happened (``409`` excepted: see
  above). ``429`` means "not processed, try later".
* A ``5xx`` answer, a read timeout or a dropped connection tells nothing: the operation may or
  may not have happened.
* ``GET /v1/authorizations?idempotency_key=K`` answering ``404`` with error code
  ``authorization_not_found`` is final: no authorisation exists for K and the acquirer refuses
  to create one with K afterwards (the key is fenced), so a late duplicate cannot charge later.

Requests (amounts in cents):

====================================================  ==============================================
``POST /v1/authorizations``                           ``{amount, currency, card: {number, exp_month,
                                                      exp_year, cvc?, holder}, three_ds: {required,
                                                      shopper_present}, statement_descriptor?}``
``POST /v1/authorizations/{id}/3ds``                  ``{authenticated}``: the challenge's result
``GET  /v1/authorizations?idempotency_key=K``         inquiry; K is the key of the authorisation or
                                                      of its 3-D Secure completion
``POST /v1/authorizations/{id}/capture``              ``{amount}``
``POST /v1/authorizations/{id}/void``                 ``{}``
``POST /v1/refunds``                                  ``{authorization, amount}``
====================================================  ==============================================

Answers (2xx):

* authorisation: ``{id, object: "authorization", status, amount, currency, decline_code, message,
  three_ds: {performed, frictionless, challenge_url}, card?: {country}}`` with ``status`` one of ``authorized``,
  ``requires_3ds`` (the shopper must answer a challenge, then ``/3ds``), ``declined`` (with a
  ``decline_code``, see ``DECLINE_CODES``), ``error`` (a processing error, nothing authorised) or
  ``processing`` (no answer yet: inquire later). An authorisation that was captured or voided
  keeps ``status: "authorized"``. With ``shopper_present: false`` the acquirer never asks for a
  challenge. ``card.country``, when present, is the issuer's country (ISO 3166-1 alpha-2): it
  replaces the one our BIN table gave (payments.bins).
* capture, void, refund: ``{id, object, status, amount}`` with ``status`` ``succeeded``, ``error``
  (a processing error, nothing done) or ``processing``.
* errors (4xx): ``{"error": {"code", "message"}}``. Capture, void and refund refusals are ``422``
  with a code such as ``authorization_expired`` (see ``OPERATION_REFUSALS``).

Retry policy
============

At most ``max_attempts`` (3) attempts per call, all with the same key and body, short exponential
backoff, and no new attempt once ``retry_budget_seconds`` (twice the read timeout) have passed
since the first one started:

* connection failures before anything was sent (connect timeout, refused, DNS, TLS certificate)
  are retried for every operation;
* read timeouts, dropped connections and 5xx are retried only for capture, void, refund and the
  inquiry. Capture, void and refund act on an existing authorisation and are idempotent by key;
  the inquiry changes nothing. Authorisation and 3-D Secure completion are never re-sent after
  they may have arrived: an unknown answer is resolved by ``inquire`` instead, so an
  authorisation still running on the acquirer's side never meets a second copy of itself;
* a 4xx is never retried, nor a redirect (redirects are not followed) or an unreadable answer.

What the caller gets when no usable answer came:

* ``authorize`` / ``complete_3ds``: ``Outcome.UNKNOWN`` if the request may have arrived (the card
  may have been charged: keep the payment pending and ``inquire`` later); ``Outcome.ERROR`` with
  ``processing_error`` only if no attempt reached the acquirer (nothing can have been authorised).
  A ``409`` is also ``UNKNOWN``; any other 4xx is ``ERROR``/``processing_error`` (logged as an error).
* ``inquire``: ``AcquirerUnavailable`` (also for a 4xx other than the fenced 404, or a
  ``processing`` answer); reconciliation tries again later. Its answers are ``AUTHORIZED``,
  ``DECLINED`` (the fenced 404 gives ``processing_error``, as the sandbox does), ``ERROR``, or
  ``REQUIRES_3DS`` while a challenge is still open.
* ``capture`` / ``void`` / ``refund``: ``AcquirerUnavailable`` (also for ``409``, ``429`` and a
  ``processing`` answer); the caller rolls back and may retry later with the same key. Other 4xx
  are a definitive refusal: ``Outcome.DECLINED`` with ``processing_error`` and the reason.

Card data
=========

The card number and security code exist only in the request body. The body is built in a helper
and handed to ``requests`` as a bytes object whose ``repr``/``str`` are redacted (http.client's
debug output prints ``repr`` of what it sends), it is never logged, and no exception we raise
carries the body or a ``requests`` exception (which would hold the prepared request). Logs name
the operation, the idempotency key, the HTTP status and, for authorisations, the last four
digits. ``AcquirerResult.raw`` keeps a whitelist of the answer's fields (no free text), with
anything that looks like a card number masked. ``requests`` does not read proxies or ``.netrc``
from the environment.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from urllib.parse import quote

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from payments.acquirers import network
from payments.acquirers.base import Acquirer, AcquirerResult, AcquirerUnavailable, CardData, Outcome
from payplug.logging import mask_card_numbers

logger = logging.getLogger(__name__)

CARD_DECLINED = "card_declined"
PROCESSING_ERROR = "processing_error"
INCORRECT_NUMBER = "incorrect_number"
THREE_DS_DECLINED = "3ds_declined"
METHOD_UNSUPPORTED = "method_unsupported"

_GENERIC_DECLINE = (CARD_DECLINED, "The card was declined by the issuer.")
_LOST_OR_STOLEN = (CARD_DECLINED, "The card was declined: it was reported lost or stolen.")
_NOT_ALLOWED = (CARD_DECLINED, "The card was declined: the card does not allow this kind of payment.")
_AUTHENTICATION_REQUIRED = (CARD_DECLINED, "The card was declined: the issuer requires 3-D Secure authentication.")
_THREE_DS_FAILED = (THREE_DS_DECLINED, "3-D Secure authentication failed.")
_PROCESSING = (PROCESSING_ERROR, "The acquirer reported a processing error.")

# The acquirer's decline_code -> our failure code and English message (spec §7.4). Every issuer
# refusal is card_declined with a message that says which; unknown codes are generic declines.
DECLINE_CODES: dict[str, tuple[str, str]] = {
    "generic_decline": _GENERIC_DECLINE,
    "do_not_honor": (CARD_DECLINED, "The card was declined by the issuer (do not honour)."),
    "insufficient_funds": (CARD_DECLINED, "The card was declined: insufficient funds."),
    "lost_card": _LOST_OR_STOLEN,
    "stolen_card": _LOST_OR_STOLEN,
    "pickup_card": _LOST_OR_STOLEN,
    "expired_card": (CARD_DECLINED, "The card was declined: it has expired."),
    "incorrect_cvc": (CARD_DECLINED, "The card was declined: the security code is incorrect."),
    "invalid_expiry_date": (CARD_DECLINED, "The card was declined: the expiry date is incorrect."),
    "card_velocity_exceeded": (CARD_DECLINED, "The card was declined: its spending limit was reached."),
    "restricted_card": (CARD_DECLINED, "The card was declined: the card is restricted."),
    "transaction_not_allowed": _NOT_ALLOWED,
    "card_not_supported": _NOT_ALLOWED,
    "fraudulent": (CARD_DECLINED, "The card was declined by the issuer (suspected fraud)."),
    "authentication_required": _AUTHENTICATION_REQUIRED,
    "invalid_number": (INCORRECT_NUMBER, "The card number does not exist."),
    "incorrect_number": (INCORRECT_NUMBER, "The card number does not exist."),
    "authentication_failed": _THREE_DS_FAILED,
    "brand_not_supported": (METHOD_UNSUPPORTED, "This card brand is not accepted."),
    "processing_error": _PROCESSING,
}

# Error codes of a 422 refusing a capture, void or refund -> the reason, in English.
OPERATION_REFUSALS: dict[str, str] = {
    "authorization_expired": "the authorisation has expired",
    "authorization_voided": "the authorisation was voided",
    "authorization_declined": "the authorisation was not approved",
    "already_captured": "the authorisation was already captured",
    "amount_too_large": "the amount exceeds what remains",
    "charge_disputed": "the payment is disputed",
    "insufficient_balance": "the merchant's balance is insufficient",
}

_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, no spaces: a header value
_CURRENCY = re.compile(r"[A-Z]{3}")
_COUNTRY = re.compile(r"[A-Z]{2}")  # ISO 3166-1 alpha-2
_MACHINE_CODE = re.compile(r"[a-z0-9_]{1,64}")
_RETRYABLE_REFUSAL = frozenset({409, 429})  # nothing known (409) or nothing done (429): try later
_TRANSPORT_ERRORS = (
    requests.ConnectionError,  # includes ConnectTimeout and SSLError
    requests.Timeout,  # includes ReadTimeout
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
# Whitelisted fields of an answer kept in AcquirerResult.raw: never a card number or CVC.
# Free text (the acquirer's "message") is left out: it could quote anything, a CVC included.
_RAW_FIELDS = frozenset(
    {
        "id",
        "object",
        "status",
        "amount",
        "currency",
        "decline_code",
        "created",
        "authorization",
        "captured_amount",
        "refunded_amount",
    }
)
_RAW_THREE_DS_FIELDS = frozenset({"performed", "frictionless", "authenticated", "challenge_url", "version"})


class _RedactedBody(bytes):
    """A request body whose repr and str never show its content (it may hold a card)."""

    def __repr__(self):
        return f"<request body: {len(self)} bytes, redacted>"

    __str__ = __repr__


def _json_body(payload: dict) -> _RedactedBody:
    return _RedactedBody(json.dumps(payload, separators=(",", ":")).encode())


def _authorization_body(
    card: CardData, amount: int, currency: str, force_3ds: bool, shopper_present: bool, statement_descriptor: str
) -> _RedactedBody:
    # The only place the number and CVC are handled: the dict dies with this frame.
    card_fields = {"number": card.number, "exp_month": card.exp_month, "exp_year": card.exp_year, "holder": card.holder}
    if card.cvc:
        card_fields["cvc"] = card.cvc
    payload = {
        "amount": amount,
        "currency": currency,
        "card": card_fields,
        "three_ds": {"required": bool(force_3ds), "shopper_present": bool(shopper_present)},
    }
    if statement_descriptor:
        payload["statement_descriptor"] = statement_descriptor
    return _json_body(payload)


def _base_url(url: str) -> str:
    return network.checked_base_url(url, "ACQUIRER_URL", ImproperlyConfigured)


def _safe_text(value: str, limit: int = 300) -> str:
    return mask_card_numbers(value[:limit])


def _safe_scalar(value):
    if isinstance(value, str):
        return _safe_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return None


def _safe_raw(data: dict | None) -> dict:
    if not isinstance(data, dict):
        return {}
    raw = {key: _safe_scalar(value) for key, value in data.items() if key in _RAW_FIELDS}
    if "decline_code" in raw:
        raw["decline_code"] = _code(raw["decline_code"]) or None
    three_ds = data.get("three_ds")
    if isinstance(three_ds, dict):
        raw["three_ds"] = {key: _safe_scalar(value) for key, value in three_ds.items() if key in _RAW_THREE_DS_FIELDS}
    error = data.get("error")
    if isinstance(error, dict):
        raw["error"] = {"code": _code(error.get("code")) or None}
    return raw


def _code(value) -> str:
    """A machine code from the acquirer, or "" when it does not look like one (never echo free text)."""
    return value if isinstance(value, str) and _MACHINE_CODE.fullmatch(value) else ""


def _error_code(data: dict | None) -> str:
    error = data.get("error") if isinstance(data, dict) else None
    return _code(error.get("code")) if isinstance(error, dict) else ""


@dataclass(frozen=True)
class _Reply:
    """What one call (all its attempts) produced.

    `problem` is empty when `status` is a definitive answer (2xx with a JSON object, or 4xx);
    otherwise it says why there is no usable answer, and `delivered` whether any attempt may
    have reached the acquirer.
    """

    status: int | None
    data: dict | None
    problem: str = ""
    delivered: bool = True
    attempts: int = 1

    @property
    def refused(self) -> bool:
        return not self.problem and self.status is not None and 400 <= self.status < 500


class HttpAcquirer(Acquirer):
    name = "http"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout_seconds: float = 10.0,
        max_attempts: int = 3,
        retry_backoff_seconds: float = 0.2,
        retry_budget_seconds: float | None = None,
        session: requests.Session | None = None,
    ):
        if not api_key:
            raise ImproperlyConfigured("ACQUIRER_API_KEY is required for the http acquirer.")
        if not timeout_seconds or timeout_seconds <= 0:
            raise ImproperlyConfigured("ACQUIRER_TIMEOUT_SECONDS must be positive.")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._base_url = _base_url(base_url)
        self._api_key = api_key
        # Connecting is quick or hopeless; answering an authorisation may take the issuer a while.
        self.read_timeout = float(timeout_seconds)
        self.connect_timeout = min(3.0, self.read_timeout / 2)
        self.max_attempts = max_attempts
        self.retry_backoff_seconds = retry_backoff_seconds
        # Room for one retry after a read timeout, not two: a capture or refund answers our own
        # API's caller, who should get a 503 rather than wait three read timeouts.
        self.retry_budget_seconds = 2 * self.read_timeout if retry_budget_seconds is None else retry_budget_seconds
        self._session = session or requests.Session()
        self._session.trust_env = False  # no proxy, .netrc or CA bundle from the environment

    @classmethod
    def from_settings(cls) -> HttpAcquirer:
        return cls(
            base_url=settings.ACQUIRER_URL,
            api_key=settings.ACQUIRER_API_KEY,
            timeout_seconds=settings.ACQUIRER_TIMEOUT_SECONDS,
        )

    def __repr__(self):
        return f"HttpAcquirer(base_url={self._base_url!r}, timeout={self.connect_timeout}/{self.read_timeout}s)"

    # --- operations ---------------------------------------------------------------------------

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
    ):
        _check_key(idempotency_key)
        _check_amount(amount)
        if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
            raise ValueError("currency must be a three-letter ISO 4217 code")
        if not (isinstance(card.number, str) and card.number.isdigit() and 12 <= len(card.number) <= 19):
            raise ValueError("the card number must be 12 to 19 digits")  # never echo the number
        last4 = card.number[-4:]
        body = _authorization_body(card, amount, currency, force_3ds, shopper_present, statement_descriptor)
        reply = self._exchange(
            "authorize",
            "POST",
            "/v1/authorizations",
            idempotency_key=idempotency_key,
            body=body,
            retry_unanswered=False,
            context=f"last4={last4}",
        )
        result = self._authorization_outcome(reply, authenticated=None)
        if result.outcome == Outcome.REQUIRES_3DS and not shopper_present:
            # Protocol breach: no challenge without the shopper. Nothing is authorised while a
            # challenge waits, so this is a refusal, not an unknown.
            logger.warning("acquirer authorize key=%s asked for 3-D Secure without a shopper", idempotency_key)
            code, message = _AUTHENTICATION_REQUIRED
            result = AcquirerResult(
                outcome=Outcome.DECLINED,
                reference=result.reference,
                failure_code=code,
                failure_message=message,
                raw=result.raw,
            )
        self._log_result("authorize", idempotency_key, result, f"last4={last4}")
        return result

    def complete_3ds(self, *, reference, authenticated, idempotency_key):
        _check_key(idempotency_key)
        body = _json_body({"authenticated": bool(authenticated)})
        reply = self._exchange(
            "complete_3ds",
            "POST",
            f"/v1/authorizations/{_segment(reference)}/3ds",
            idempotency_key=idempotency_key,
            body=body,
            retry_unanswered=False,
        )
        result = self._authorization_outcome(reply, authenticated=bool(authenticated))
        if not result.reference:
            result.reference = reference
        self._log_result("complete_3ds", idempotency_key, result)
        return result

    def inquire(self, *, idempotency_key):
        _check_key(idempotency_key)
        reply = self._exchange(
            "inquire",
            "GET",
            "/v1/authorizations",
            idempotency_key=idempotency_key,
            params={"idempotency_key": idempotency_key},
            retry_unanswered=True,
        )
        if reply.problem:
            raise AcquirerUnavailable(f"inquiry for idempotency key {idempotency_key}: {reply.problem}")
        if reply.status == 404 and _error_code(reply.data) == "authorization_not_found":
            result = AcquirerResult(
                outcome=Outcome.DECLINED,
                failure_code=PROCESSING_ERROR,
                failure_message="The acquirer has no record of this authorisation.",
                raw=_safe_raw(reply.data),
            )
            self._log_result("inquire", idempotency_key, result)
            return result
        if reply.refused:
            # Nothing can be concluded from a refused inquiry (a wrong key or URL must never settle
            # a payment as failed): reconciliation tries again once someone has fixed it.
            logger.error("acquirer inquire key=%s refused with HTTP %s", idempotency_key, reply.status)
            raise AcquirerUnavailable(f"inquiry for idempotency key {idempotency_key}: HTTP {reply.status}")
        result = self._authorization_result(reply.data, authenticated=None)
        if result is None or result.outcome == Outcome.UNKNOWN:
            reason = "malformed answer" if result is None else "still processing"
            raise AcquirerUnavailable(f"inquiry for idempotency key {idempotency_key}: {reason}")
        self._log_result("inquire", idempotency_key, result)
        return result

    def capture(self, *, reference, amount, idempotency_key):
        _check_amount(amount)
        return self._operation(
            "capture",
            f"/v1/authorizations/{_segment(reference)}/capture",
            {"amount": amount},
            reference=reference,
            idempotency_key=idempotency_key,
        )

    def void(self, *, reference, idempotency_key):
        return self._operation(
            "void",
            f"/v1/authorizations/{_segment(reference)}/void",
            {},
            reference=reference,
            idempotency_key=idempotency_key,
        )

    def refund(self, *, reference, amount, idempotency_key):
        _check_amount(amount)
        _segment(reference)
        return self._operation(
            "refund",
            "/v1/refunds",
            {"authorization": reference, "amount": amount},
            reference=reference,
            idempotency_key=idempotency_key,
        )

    # --- interpretation -----------------------------------------------------------------------

    def _authorization_outcome(self, reply: _Reply, *, authenticated: bool | None) -> AcquirerResult:
        """authorize / complete_3ds: a definitive answer, or UNKNOWN whenever it may have been acted on."""
        three_ds_flow = authenticated is not None
        if reply.problem:
            if not reply.delivered:
                return AcquirerResult(
                    outcome=Outcome.ERROR,
                    failure_code=PROCESSING_ERROR,
                    is_3ds=three_ds_flow,
                    failure_message="The acquirer could not be reached; nothing was authorised.",
                )
            return AcquirerResult(
                outcome=Outcome.UNKNOWN,
                is_3ds=three_ds_flow,
                failure_message=f"The acquirer's answer is unknown ({reply.problem}).",
            )
        if reply.status == 409:
            return AcquirerResult(
                outcome=Outcome.UNKNOWN,
                is_3ds=three_ds_flow,
                raw=_safe_raw(reply.data),
                failure_message="The acquirer is still processing this operation.",
            )
        if reply.refused:
            logger.error(
                "acquirer refused an authorisation request with HTTP %s (%s)",
                reply.status,
                _error_code(reply.data) or "no code",
            )
            return AcquirerResult(
                outcome=Outcome.ERROR,
                failure_code=PROCESSING_ERROR,
                is_3ds=three_ds_flow,
                failure_message=f"The acquirer refused the request (HTTP {reply.status}).",
                raw=_safe_raw(reply.data),
            )
        result = self._authorization_result(reply.data, authenticated=authenticated)
        if result is None:
            logger.warning("acquirer sent an authorisation answer it does not understand")
            return AcquirerResult(
                outcome=Outcome.UNKNOWN,
                is_3ds=three_ds_flow,
                failure_message="The acquirer's answer is unknown (malformed answer).",
            )
        return result

    @staticmethod
    def _authorization_result(data: dict | None, *, authenticated: bool | None) -> AcquirerResult | None:
        """Read an authorisation object; None when it is not one."""
        if not isinstance(data, dict):
            return None
        status, reference = data.get("status"), data.get("id")
        reference = reference if isinstance(reference, str) else ""
        three_ds = data.get("three_ds") if isinstance(data.get("three_ds"), dict) else {}
        frictionless = bool(three_ds.get("frictionless"))
        is_3ds = authenticated is not None or bool(three_ds.get("performed")) or frictionless
        raw = _safe_raw(data)
        card = data.get("card") if isinstance(data.get("card"), dict) else {}
        country = card.get("country")
        country = country if isinstance(country, str) and _COUNTRY.fullmatch(country) else ""
        if status in ("authorized", "requires_3ds") and not reference:
            return None
        if status == "authorized":
            return AcquirerResult(
                outcome=Outcome.AUTHORIZED,
                reference=reference,
                is_3ds=is_3ds,
                three_ds_frictionless=frictionless,
                card_country=country,
                raw=raw,
            )
        if status == "requires_3ds":
            return AcquirerResult(outcome=Outcome.REQUIRES_3DS, reference=reference, is_3ds=True, raw=raw)
        if status == "declined":
            decline_code = data.get("decline_code")
            if authenticated is False:
                code, message = _THREE_DS_FAILED
            else:
                code, message = (
                    DECLINE_CODES.get(decline_code, _GENERIC_DECLINE)
                    if isinstance(decline_code, str)
                    else _GENERIC_DECLINE
                )
            outcome = Outcome.ERROR if code == PROCESSING_ERROR else Outcome.DECLINED
            return AcquirerResult(
                outcome=outcome,
                reference=reference,
                failure_code=code,
                failure_message=message,
                is_3ds=is_3ds or code == THREE_DS_DECLINED,
                three_ds_frictionless=frictionless,
                card_country=country,
                raw=raw,
            )
        if status == "error":
            code, message = _PROCESSING
            return AcquirerResult(
                outcome=Outcome.ERROR,
                reference=reference,
                failure_code=code,
                failure_message=message,
                is_3ds=is_3ds,
                raw=raw,
            )
        if status == "processing":
            return AcquirerResult(
                outcome=Outcome.UNKNOWN,
                reference=reference,
                is_3ds=is_3ds,
                raw=raw,
                failure_message="The acquirer has not decided yet.",
            )
        return None

    def _operation(
        self, operation: str, path: str, payload: dict, *, reference: str, idempotency_key: str
    ) -> AcquirerResult:
        """capture / void / refund: a definitive result, or AcquirerUnavailable (retry later, same key)."""
        _check_key(idempotency_key)
        reply = self._exchange(
            operation, "POST", path, idempotency_key=idempotency_key, body=_json_body(payload), retry_unanswered=True
        )
        unavailable = f"{operation} with idempotency key {idempotency_key}"
        if reply.problem:
            raise AcquirerUnavailable(f"{unavailable}: {reply.problem}")
        if reply.status in _RETRYABLE_REFUSAL:
            raise AcquirerUnavailable(f"{unavailable}: HTTP {reply.status}, try again later")
        raw = _safe_raw(reply.data)
        if reply.refused:
            code = _error_code(reply.data)
            if reply.status != 422:
                logger.error("acquirer %s key=%s refused with HTTP %s", operation, idempotency_key, reply.status)
            reason = OPERATION_REFUSALS.get(code, f"HTTP {reply.status}{' ' + code if code else ''}")
            result = AcquirerResult(
                outcome=Outcome.DECLINED,
                reference=reference,
                failure_code=PROCESSING_ERROR,
                failure_message=f"The acquirer refused the {operation}: {_safe_text(reason)}.",
                raw=raw,
            )
            self._log_result(operation, idempotency_key, result)
            return result
        status = reply.data.get("status")
        own_id = reply.data.get("id") if isinstance(reply.data.get("id"), str) else ""
        if status == "succeeded":
            if operation == "refund" and not own_id:
                raise AcquirerUnavailable(f"{unavailable}: malformed answer (no refund id)")
            result = AcquirerResult(
                outcome=Outcome.SUCCEEDED, reference=own_id if operation == "refund" else reference, raw=raw
            )
        elif status == "error":
            code, message = _PROCESSING
            result = AcquirerResult(
                outcome=Outcome.ERROR, reference=reference, failure_code=code, failure_message=message, raw=raw
            )
        elif status == "processing":
            raise AcquirerUnavailable(f"{unavailable}: still processing")
        else:
            raise AcquirerUnavailable(f"{unavailable}: malformed answer")
        self._log_result(operation, idempotency_key, result)
        return result

    # --- transport ----------------------------------------------------------------------------

    def _exchange(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        idempotency_key: str,
        body: _RedactedBody | None = None,
        params: dict | None = None,
        retry_unanswered: bool,
        context: str = "",
    ) -> _Reply:
        """Send one operation, retrying only where the policy (module docstring) allows.

        Never raises for transport failures and never keeps a `requests` exception (it holds the
        prepared request, body included): the caller raises its own errors from the `_Reply`.
        """
        url = self._base_url + path
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Idempotency-Key": idempotency_key,
            "Accept": "application/json",
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        delivered = False
        problem, status = "", None
        attempt = 0
        while attempt < self.max_attempts:
            if attempt and time.monotonic() - started >= self.retry_budget_seconds:
                break
            if attempt:
                time.sleep(self.retry_backoff_seconds * 2 ** (attempt - 1))
            attempt += 1
            response, reached = None, False
            try:
                response = self._session.request(
                    method,
                    url,
                    headers=headers,
                    data=body,
                    params=params,
                    allow_redirects=False,
                    timeout=(self.connect_timeout, self.read_timeout),
                )
            except _TRANSPORT_ERRORS as exc:
                reached = not network.never_sent(exc)
                problem, status = network.describe(exc), None
            if response is not None:
                status = response.status_code
                logger.debug(
                    "acquirer %s key=%s %s attempt=%d HTTP %s", operation, idempotency_key, context, attempt, status
                )
                if status < 500:
                    return self._read(response, attempt)
                reached, problem = True, f"HTTP {status}"
            # No answer, or a 5xx: the request may have been acted on once it reached the acquirer.
            delivered = delivered or reached
            logger.warning(
                "acquirer %s key=%s %s attempt=%d/%d: %s",
                operation,
                idempotency_key,
                context,
                attempt,
                self.max_attempts,
                problem,
            )
            if reached and not retry_unanswered:
                break
        return _Reply(status=status, data=None, problem=problem, delivered=delivered, attempts=attempt)

    @staticmethod
    def _read(response: requests.Response, attempt: int) -> _Reply:
        status = response.status_code
        try:
            data = json.loads(response.content) if response.content else None
        except ValueError:  # never quote the body: it is the acquirer's, and could echo anything
            data = None
        if 200 <= status < 300:
            if not isinstance(data, dict):
                return _Reply(status=status, data=None, problem="malformed answer", attempts=attempt)
            return _Reply(status=status, data=data, attempts=attempt)
        if 400 <= status < 500:
            return _Reply(status=status, data=data if isinstance(data, dict) else None, attempts=attempt)
        return _Reply(status=status, data=None, problem=f"unexpected HTTP {status}", attempts=attempt)

    @staticmethod
    def _log_result(operation: str, idempotency_key: str, result: AcquirerResult, context: str = ""):
        level = logging.WARNING if result.outcome == Outcome.UNKNOWN else logging.INFO
        logger.log(
            level,
            "acquirer %s key=%s %s -> %s %s reference=%s",
            operation,
            idempotency_key,
            context,
            result.outcome.value,
            result.failure_code or "-",
            result.reference or "-",
        )


def _check_key(idempotency_key) -> None:
    if not isinstance(idempotency_key, str) or not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise ValueError("idempotency_key must be 1 to 255 printable ASCII characters without spaces")


def _check_amount(amount) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValueError("amount must be a positive integer number of cents")


def _segment(reference) -> str:
    if not isinstance(reference, str) or not reference:
        raise ValueError("reference must be the acquirer's non-empty id")
    return quote(reference, safe="")
