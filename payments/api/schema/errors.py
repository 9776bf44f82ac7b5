"""The `Error` component (every non-2xx answer) and the error responses an operation may list."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers

from payments.api.schema.common import Constant, Pattern, ResponseObject


class Error(ResponseObject):
    """Every non-2xx answer (spec §3)."""

    object = Constant("error", "ErrorObjectType")
    code = serializers.CharField(
        help_text="Machine-readable reason: `invalid_json`, `invalid_request`, a business rule (`payment_not_paid`, "
        "`payment_already_paid`, `payment_already_failed`, `payment_pending`, `payment_not_deferred`, "
        "`payment_not_authorized`, `authorization_expired`, `refund_exceeds_remaining`, `refund_amount_too_small`, "
        "`refund_not_yet_allowed`, `refund_window_closed`, `payment_disputed`, `refund_refused`, "
        "`subscription_not_active`, `subscription_not_paused`) (400); "
        "`authentication_required`, `invalid_api_key`; `invalid_credentials`, `otp_required`, `invalid_otp` on "
        "`POST /v1/keys` (401); `publishable_key_not_allowed`, `account_not_live`, `account_suspended`, "
        "`feature_not_enabled`, `https_required`; `no_account`, `insufficient_role` on `POST /v1/keys` (403); "
        "`not_found` (404); "
        "`method_not_allowed` (405, a known route with another method); `idempotency_key_reused`, "
        "`idempotency_key_in_use` (409); `payload_too_large` (413); `rate_limited`, `login_locked` (429); "
        "`server_error` (500); "
        "`service_unavailable` (503)."
    )
    message = serializers.CharField(
        help_text="English sentence; for validation errors it starts with the dotted path of the first invalid field."
    )
    details = serializers.DictField(
        help_text="One entry per invalid field, nested like the request; `{}` when not about fields."
    )
    request_id = Pattern("^req_[0-9A-Za-z]+$", help_text="Same as the `X-Request-Id` header.")


def _error_example(status, code, message, details=None):
    return OpenApiExample(
        code,
        status_codes=[str(status)],
        response_only=True,
        value={
            "object": "error",
            "code": code,
            "message": message,
            "details": details or {},
            "request_id": "req_4wJ8dQm2xV0aTq1zKb7c",
        },
    )


ERRORS = {
    400: OpenApiResponse(
        Error,
        "Invalid JSON (`invalid_json`), a missing, unknown, mistyped or out-of-range field or query parameter "
        "(`invalid_request`, `details` names it), or a business rule refused the change (e.g. "
        "`payment_not_paid`, `refund_exceeds_remaining`). Nothing was changed.",
        examples=[
            _error_example(
                400, "invalid_request", "currency: only EUR is supported.", {"currency": "only EUR is supported."}
            )
        ],
    ),
    401: OpenApiResponse(
        Error,
        "No `Authorization: Bearer` header (`authentication_required`), or an unknown, malformed or revoked "
        "key (`invalid_api_key`).",
        examples=[_error_example(401, "invalid_api_key", "Invalid API key.")],
    ),
    403: OpenApiResponse(
        Error,
        "A publishable key (`publishable_key_not_allowed`), a suspended account (`account_suspended`), a "
        "live key before approval (`account_not_live`), a live feature not enabled (`feature_not_enabled`) "
        "or plain HTTP where HTTPS is required (`https_required`).",
        examples=[
            _error_example(
                403, "publishable_key_not_allowed", "Publishable keys can only start a checkout; use a secret key."
            )
        ],
    ),
    404: OpenApiResponse(
        Error,
        "No such object for this key's merchant and mode (`not_found`).",
        examples=[_error_example(404, "not_found", "No such resource.")],
    ),
    409: OpenApiResponse(
        Error,
        "`Idempotency-Key` conflict: used with another request (`idempotency_key_reused`) or the first "
        "request with it is still running (`idempotency_key_in_use`).",
        examples=[
            _error_example(409, "idempotency_key_reused", "This Idempotency-Key was already used with another request.")
        ],
    ),
    413: OpenApiResponse(
        Error,
        "The body is larger than 64 KiB (`payload_too_large`).",
        examples=[_error_example(413, "payload_too_large", "The request body is larger than 64 KiB.")],
    ),
    429: OpenApiResponse(
        Error,
        "Rate limited (`rate_limited`); retry after `Retry-After` seconds.",
        examples=[_error_example(429, "rate_limited", "Too many requests.")],
    ),
    503: OpenApiResponse(
        Error,
        "The card acquirer is unavailable (`service_unavailable`); nothing was changed. Retry after "
        "`Retry-After` seconds with the same `Idempotency-Key`.",
        examples=[
            _error_example(
                503,
                "service_unavailable",
                "The card acquirer is unavailable; nothing was changed. Retry later with the same Idempotency-Key.",
            )
        ],
    ),
}
