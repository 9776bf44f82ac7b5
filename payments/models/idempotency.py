"""Idempotency-Key records of the API and the dashboard (see payments.idempotency and payments.api.idempotency)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class IdempotencyRecord(models.Model):
    """A POST/PATCH with an `Idempotency-Key` (spec §4): the request's hash and its stored answer."""

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="+")
    is_live = models.BooleanField()
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)  # null while the first request runs
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "is_live", "key"], name="unique_idempotency_key"),
        ]

    def __str__(self):
        return self.key
