"""`Idempotency-Key` on POST and PATCH (spec §4): replay the stored answer, 409 on conflicts.

The API's wrapper around payments.idempotency (the key table the dashboard's refund form uses
too): the key is claimed before the view runs and the answer is stored when the view returns.
5xx, 429 and this section's 409 are not stored, so a retry after them executes again.
"""

from __future__ import annotations

import hashlib
import json
from functools import wraps

from django.http import JsonResponse
from rest_framework.response import Response

from payments import idempotency
from payplug.api import ApiError, is_valid_idempotency_key

__all__ = ["idempotent", "request_hash"]


def request_hash(method: str, path: str, body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method}\n{path.rstrip('/')}\n{canonical}".encode()).hexdigest()


def _body_of(response) -> dict | None:
    if isinstance(response, Response):
        return response.data
    if isinstance(response, JsonResponse):
        return json.loads(response.content)
    return None


def idempotent(view_method):
    @wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view_method(self, request, *args, **kwargs)
        if not is_valid_idempotency_key(key):
            raise ApiError(
                "invalid_request",
                "Idempotency-Key: must be 1 to 255 printable ASCII characters.",
                details={"Idempotency-Key": "must be 1 to 255 printable ASCII characters."},
            )
        caller = request.auth
        digest = request_hash(request.method, request.path, self.json_body())
        record = _claim(caller.merchant, caller.is_live, key, digest)
        if record.status_code is not None:
            replay = Response(record.response_body, status=record.status_code)
            replay["Idempotent-Replayed"] = "true"
            return replay
        try:
            response = view_method(self, request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)  # an API error: stored like any other answer
            if response is None or response.status_code >= 500:
                idempotency.release(record)
                raise
        if response.status_code >= 500 or response.status_code == 429:
            idempotency.release(record)
            return response
        idempotency.store(record, response.status_code, _body_of(response))
        return response

    return wrapper


def _claim(merchant, is_live: bool, key: str, digest: str):
    try:
        return idempotency.claim(merchant, is_live, key, digest)
    except idempotency.KeyReused:
        raise ApiError(
            "idempotency_key_reused", "This Idempotency-Key was already used with another request.", status=409
        ) from None
    except idempotency.KeyInUse:
        raise ApiError(
            "idempotency_key_in_use",
            "A request with this Idempotency-Key is still being processed; retry later.",
            status=409,
        ) from None
