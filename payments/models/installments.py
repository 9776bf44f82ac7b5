"""Installment plans (addendum §17): a basket paid in 2 to 4 installments on a schedule.

The first installment is paid on the hosted page, where the card is saved for the plan; the
later ones are charged on their date, merchant-initiated, on that card (payments.installments).
Each installment payment is an ordinary payment carrying `installment_plan` and its index.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone

from merchants.tenancy import TenantModel
from payments.models.payments import Card
from payments.models.scheduled import ScheduledCharge
from payplug.ids import id_factory


class InstallmentPlan(TenantModel):
    public_id = models.CharField(max_length=40, unique=True, default=id_factory("inst"))
    currency = models.CharField(max_length=3, default="EUR")
    billing = models.JSONField(default=dict)
    shipping = models.JSONField(null=True)
    return_url = models.CharField(max_length=2048, null=True)
    cancel_url = models.CharField(max_length=2048, null=True)
    notification_url = models.CharField(max_length=2048, null=True)
    notification_response_code = models.IntegerField(null=True)
    metadata = models.JSONField(default=dict)
    is_active = models.BooleanField(default=True)
    is_fully_paid = models.BooleanField(default=False)
    failure_code = models.CharField(max_length=40, null=True)
    failure_message = models.CharField(max_length=255, null=True)
    aborted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)  # fully paid, aborted or failed for good
    # The card saved by the payment of the first installment (or of a later one paid on a page
    # with another card): the later installments are charged on it.
    card = models.ForeignKey(Card, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Test mode only: how far the plan's clock was advanced (POST .../test_clock). The plan's
    # "now" is the real time plus this offset.
    clock_offset = models.DurationField(default=timedelta(0))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["merchant", "is_live", "created_at", "id"], name="installment_plan_keyset")]

    def __str__(self):
        return self.public_id

    def now(self):
        return timezone.now() + self.clock_offset


class Installment(ScheduledCharge):
    Status = ScheduledCharge.Status

    plan = models.ForeignKey(InstallmentPlan, on_delete=models.CASCADE, related_name="installments")
    index = models.PositiveSmallIntegerField()  # 1 for the first installment

    class Meta:
        ordering = ["index"]
        constraints = [models.UniqueConstraint(fields=["plan", "index"], name="installment_unique_index")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="installment_due")]

    def __str__(self):
        return f"{self.plan_id}#{self.index}"
