"""Idempotency keys: one table (IdempotencyRecord) for every surface that must act once per key.

The API's `Idempotency-Key` header (payments.api.idempotency) and the dashboard's refund form token
both go through here. A key is claimed by inserting its row before the work runs (a unique
constraint on merchant, mode and key arbitrates between concurrent requests); the caller then
stores the answer (`store`) or, when nothing happened and a retry must run again, frees the key
(`release`). A claim whose request died (process killed) can be taken over after ABANDONED_AFTER.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from payments.models import IdempotencyRecord

ABANDONED_AFTER = timedelta(minutes=2)  # a claim whose request died (process killed) can be taken over
KEEP_FOR = timedelta(hours=48)


class KeyReused(Exception):
    """The key was already used with another request (another hash)."""


class KeyInUse(Exception):
    """A request holding this key is still running."""


def claim(merchant, is_live: bool, key: str, digest: str) -> IdempotencyRecord:
    """The key's record, claimed for this request (`status_code` None: run the work, then `store`
    or `release`) or already answered (`status_code` set: replay it instead of working again).

    Raises KeyReused when the key was used with another request hash, KeyInUse while another
    request holding it still runs."""
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
        raise KeyReused(key)
    if record.status_code is None:
        if record.created_at < now - ABANDONED_AFTER:
            taken = IdempotencyRecord.objects.filter(
                pk=record.pk, status_code__isnull=True, created_at=record.created_at
            ).update(created_at=now)
            if taken:
                record.created_at = now
                return record
        raise KeyInUse(key)
    return record


def store(record: IdempotencyRecord, status_code: int, body: dict | None) -> None:
    """The answer of the claimed request: a later claim of the key replays it."""
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status_code=status_code, response_body=body, completed_at=timezone.now()
    )


def release(record: IdempotencyRecord) -> None:
    """Nothing happened: free the key so that a retry with it runs again."""
    IdempotencyRecord.objects.filter(pk=record.pk).delete()


def purge_expired(now=None) -> int:
    now = now or timezone.now()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - KEEP_FOR).delete()
    return deleted
