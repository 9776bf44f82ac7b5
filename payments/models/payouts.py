"""Payouts to the merchant's bank account and the SEPA batches that carry them."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.tenancy import TenantModel
from payments.amounts import format_money
from payplug.ids import id_factory


class PayoutBatch(models.Model):
    """One SEPA credit transfer file (pain.001.001.03) holding the payouts of one run."""

    public_id = models.CharField(max_length=40, unique=True, default=id_factory("pob"))
    is_live = models.BooleanField()
    execution_date = models.DateField()
    message_id = models.CharField(max_length=64)
    payout_count = models.PositiveIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    xml = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = _("payout batches")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.public_id} ({self.execution_date}, {self.payout_count} payouts)"

    @property
    def file_name(self) -> str:
        mode = "live" if self.is_live else "test"
        return f"pain001-{mode}-{self.execution_date:%Y%m%d}-{self.public_id}.xml"


class Payout(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        IN_TRANSIT = "in_transit", _("In transit")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")

    public_id = models.CharField(max_length=40, unique=True, default=id_factory("po"))
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="EUR")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    payout_date = models.DateField()
    iban = models.CharField(max_length=34)
    bic = models.CharField(max_length=11, blank=True)
    holder_name = models.CharField(max_length=120)
    batch = models.ForeignKey(PayoutBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="payouts")
    # What this payout contains: the available-account entries in (first, last] and the pending
    # entries that fell due in (settled_from, settled_through].
    first_entry_id = models.BigIntegerField(default=0)
    last_entry_id = models.BigIntegerField(default=0)
    settled_from = models.DateTimeField(null=True, blank=True)
    settled_through = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            # Running the payout job twice on one day never pays twice.
            models.UniqueConstraint(fields=["merchant", "is_live", "payout_date"], name="one_payout_per_day"),
        ]
        indexes = [models.Index(fields=["merchant", "is_live", "-created_at", "-id"])]

    def __str__(self):
        return self.public_id

    @property
    def amount_display(self) -> str:
        return format_money(self.amount, self.currency)
