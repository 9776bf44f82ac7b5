"""Disputes (chargebacks) and their evidence (see payments.money.disputes)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.tenancy import TenantModel
from payments.amounts import format_money
from payments.models.payments import Payment
from payplug.ids import id_factory


class Dispute(TenantModel):
    class Reason(models.TextChoices):
        FRAUDULENT = "fraudulent", _("Fraudulent (cardholder did not authorise)")
        PRODUCT_NOT_RECEIVED = "product_not_received", _("Product not received")
        PRODUCT_UNACCEPTABLE = "product_unacceptable", _("Product not as described")
        DUPLICATE = "duplicate", _("Duplicate charge")
        CREDIT_NOT_PROCESSED = "credit_not_processed", _("Refund not processed")
        GENERAL = "general", _("Other")

    class Status(models.TextChoices):
        NEEDS_RESPONSE = "needs_response", _("Needs response")
        UNDER_REVIEW = "under_review", _("Evidence submitted, under review")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    OPEN = (Status.NEEDS_RESPONSE, Status.UNDER_REVIEW)

    public_id = models.CharField(max_length=40, unique=True, default=id_factory("dp"))
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="chargeback")
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="EUR")
    fee = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=32, choices=Reason.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEEDS_RESPONSE)
    evidence_due_by = models.DateTimeField()
    evidence_text = models.TextField(blank=True)
    evidence_submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Set once, by the task that claims each email (payments.money.disputes): one of each per dispute.
    opened_email_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["merchant", "is_live", "-created_at", "-id"]),
            models.Index(fields=["status", "evidence_due_by"]),
        ]

    def __str__(self):
        return self.public_id

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def amount_display(self) -> str:
        return format_money(self.amount, self.currency)


class DisputeEvidence(models.Model):
    """A file the merchant uploaded for a dispute (append-only: evidence is never replaced)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to="disputes/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.original_name
