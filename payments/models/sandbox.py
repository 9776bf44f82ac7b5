"""Test mode only: what the sandbox acquirer did, and the chargebacks it schedules."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from payments.models.payments import Payment


class SandboxOperation(models.Model):
    """The sandbox acquirer's own memory: what it answered to each idempotency key."""

    idempotency_key = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=16)
    reference = models.CharField(max_length=80)
    behaviour = models.CharField(max_length=32)
    amount = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=16)
    failure_code = models.CharField(max_length=40, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.kind} {self.reference}"


class ScheduledChargeback(models.Model):
    """Sandbox only: the chargeback that the dispute test card produces a few minutes after capture."""

    payment = models.OneToOneField(Payment, on_delete=models.CASCADE, related_name="scheduled_chargeback")
    due_at = models.DateTimeField(db_index=True)
    opened_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"chargeback of {self.payment_id} due {self.due_at:%Y-%m-%d %H:%M}"
