"""The decorator of the v1 API views: `api_operation`, one per operation of the OpenAPI document.

A view says what its operation is (id, tag, summary, success component, request serializer, error
statuses, parameters, examples); `api_operation` adds what every operation shares: the error
responses (`payments.api.schema.errors`), the headers `PayPlug-Version`, `X-Request-Id`,
`X-RateLimit-*`, `WWW-Authenticate` on 401, `Retry-After` on 429/503, and `Idempotency-Key` with
`Idempotent-Replayed` on POST and PATCH. The paging parameters live here too. The components the
views name are in `payments.api.schema`, one module per resource; importing this module loads that
package, so its drf-spectacular extensions are registered with the URLconf.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from payments.api.schema.errors import ERRORS

REQUEST_ID_HEADER = OpenApiParameter(
    "X-Request-Id",
    str,
    OpenApiParameter.HEADER,
    response=True,
    required=True,
    pattern="^req_[0-9A-Za-z]+$",
    description="Id of this request (`req_...`), also in error bodies and our logs.",
)
PAYPLUG_VERSION_HEADER = OpenApiParameter(
    "PayPlug-Version",
    str,
    OpenApiParameter.HEADER,
    required=False,
    pattern="^([0-9]{4}-[0-9]{2}-[0-9]{2})?$",
    description="Optional API version date (`YYYY-MM-DD`), as sent by the official SDKs. Any date is accepted and "
    "every version gets the same behaviour; a non-empty value that is not a date → 400.",
)
RATE_LIMIT_HEADERS = [
    ("X-RateLimit-Limit", "Size of the caller's rate-limit bucket (requests)."),
    ("X-RateLimit-Remaining", "Requests left in the bucket."),
    ("X-RateLimit-Reset", "Unix time when the bucket is full again."),
]
IDEMPOTENCY_KEY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    pattern="^[\\x21-\\x7e]{1,255}$",
    description="1 to 255 printable ASCII characters, scoped to the merchant and mode. The same key with the same "
    "method, path and body replays the stored answer (header `Idempotent-Replayed: true`); with "
    "another request → 409 `idempotency_key_reused`; while the first is running → 409 "
    "`idempotency_key_in_use`. Keys are kept at least 24 hours.",
)
PAGE_PARAMETER = OpenApiParameter(
    "page",
    {"type": "integer", "minimum": 0, "default": 0},
    OpenApiParameter.QUERY,
    required=False,
    description="0-based page number (default 0); a page past the end has an empty `data`.",
)


def per_page_parameter(default):
    return OpenApiParameter(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": 100, "default": default},
        OpenApiParameter.QUERY,
        required=False,
        description=f"Items per page, 1 to 100 (default {default}).",
    )


READ_ERRORS = (400, 401, 403, 404, 429)
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 429)


def _success(serializer, description, examples=()):
    return OpenApiResponse(serializer, description, examples=list(examples))


def api_operation(
    operation_id,
    tag,
    summary,
    success,
    *,
    status=200,
    description="",
    request=None,
    errors=READ_ERRORS,
    parameters=(),
    examples=(),
    success_examples=(),
):
    """`extend_schema` for one v1 operation: success and error responses, headers, parameters."""
    responses = {status: _success(success, summary, success_examples)}
    responses.update({code: ERRORS[code] for code in errors})
    header_parameters = [PAYPLUG_VERSION_HEADER, REQUEST_ID_HEADER]
    # Every answer past authentication carries the rate-limit headers; a 403 may come before that step.
    limited = [status, *(code for code in errors if code != 403)]
    for name, text in RATE_LIMIT_HEADERS:
        header_parameters.append(
            OpenApiParameter(name, int, OpenApiParameter.HEADER, response=limited, required=True, description=text)
        )
        if 403 in errors:
            header_parameters.append(
                OpenApiParameter(name, int, OpenApiParameter.HEADER, response=[403], required=False, description=text)
            )
    if 401 in errors:
        header_parameters.append(
            OpenApiParameter(
                "WWW-Authenticate",
                str,
                OpenApiParameter.HEADER,
                response=[401],
                required=True,
                enum=["Bearer"],
                description="The authentication scheme to use.",
            )
        )
    if 503 in errors:
        header_parameters.append(
            OpenApiParameter(
                "Retry-After",
                int,
                OpenApiParameter.HEADER,
                response=[503],
                required=True,
                description="Seconds to wait before retrying.",
            )
        )
    if 429 in errors:
        header_parameters.append(
            OpenApiParameter(
                "Retry-After",
                int,
                OpenApiParameter.HEADER,
                response=[429],
                required=True,
                description="Seconds to wait before retrying.",
            )
        )
    if request is not None:
        header_parameters.append(IDEMPOTENCY_KEY_HEADER)
        header_parameters.append(
            OpenApiParameter(
                "Idempotent-Replayed",
                str,
                OpenApiParameter.HEADER,
                response=[status],
                required=False,
                enum=["true"],
                description="Present when this answer is the stored answer of an earlier request with the same "
                "`Idempotency-Key`.",
            )
        )
    return extend_schema(
        operation_id=operation_id,
        tags=[tag],
        summary=summary,
        description=description or f"{summary}.",
        request={"application/json": request} if request is not None else None,
        responses=responses,
        parameters=[*parameters, *header_parameters],
        examples=list(examples),
    )
