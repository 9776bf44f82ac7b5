"""Accounting reports: a CSV of the ledger over a period (see payments.money.reports)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from merchants.tenancy import TenantModel
from payplug.ids import id_factory


class AccountingReport(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending"
        AVAILABLE = "available"
        EXPIRED = "expired"
        FAILED = "failed"

    public_id = models.CharField(max_length=40, unique=True, default=id_factory("ar"))
    start_date = models.DateField()
    end_date = models.DateField()
    notification_url = models.CharField(max_length=2048, null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(upload_to="reports/%Y/%m/", blank=True)
    row_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    generated_at = models.DateTimeField(null=True, blank=True)
    file_available_until = models.DateTimeField(null=True, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    created_by = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [models.Index(fields=["merchant", "is_live", "-created_at", "-id"])]

    def __str__(self):
        return self.public_id

    def current_status(self, now=None) -> str:
        now = now or timezone.now()
        if self.status == self.Status.AVAILABLE and self.file_available_until and self.file_available_until <= now:
            return self.Status.EXPIRED
        return self.status
