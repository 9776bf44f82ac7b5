"""`Idempotency-Key` on POST and PATCH (spec §4): replay the stored answer, 409 on conflicts.

The key is claimed by inserting its row before the view runs (a unique constraint arbitrates
between concurrent requests); the answer is stored when the view returns. 5xx, 429 and this
section's 409 are not stored, so a retry after them executes again.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from functools import wraps

from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils import timezone
from rest_framework.response import Response

from payments.models import IdempotencyRecord
from payplug.api import ApiError, is_valid_idempotency_key

ABANDONED_AFTER = timedelta(minutes=2)  # a claim whose request died (process killed) can be taken over
KEEP_FOR = timedelta(hours=48)


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
                IdempotencyRecord.objects.filter(pk=record.pk).delete()
                raise
        if response.status_code >= 500 or response.status_code == 429:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            return response
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status_code=response.status_code, response_body=_body_of(response), completed_at=timezone.now()
        )
        return response

    return wrapper


def _claim(merchant, is_live: bool, key: str, digest: str) -> IdempotencyRecord:
    now = timezone.now()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                merchant=merchant, is_live=is_live, key=key, request_hash=digest, created_at=now
            )
    except IntegrityError:
        pass
    record = IdempotencyRecord.objects.get(merchant=merchant, is_live=is_live, key=key)
    if record.request_hash != digest:
        raise ApiError(
            "idempotency_key_reused", "This Idempotency-Key was already used with another request.", status=409
        )
    if record.status_code is None:
        if record.created_at < now - ABANDONED_AFTER:
            taken = IdempotencyRecord.objects.filter(
                pk=record.pk, status_code__isnull=True, created_at=record.created_at
            ).update(created_at=now)
            if taken:
                record.created_at = now
                return record
        raise ApiError(
            "idempotency_key_in_use",
            "A request with this Idempotency-Key is still being processed; retry later.",
            status=409,
        )
    return record


def purge_expired(now=None) -> int:
    now = now or timezone.now()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - KEEP_FOR).delete()
    return deleted
