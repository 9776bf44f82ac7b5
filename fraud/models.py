"""Fraud decisions: one per payment, whatever the number of task deliveries."""

from django.db import models
from django.utils import timezone


class Decision(models.Model):
    class Outcome(models.TextChoices):
        CAPTURE = "capture"
        REVIEW = "review"
        REFUSE = "refuse"

    payment = models.OneToOneField("payments.Payment", on_delete=models.CASCADE, related_name="fraud_decision")
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="+")
    is_live = models.BooleanField()
    score = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    rule = models.CharField(max_length=255, blank=True)
    reasons = models.JSONField(default=list)
    model_version = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.payment_id}: {self.outcome} ({self.score})"
