"""The transactional outbox: one Event per state change, written in the changing transaction."""

from django.db import models
from django.utils import timezone

from payplug.ids import id_factory


class Event(models.Model):
    public_id = models.CharField(max_length=40, unique=True, default=id_factory("evt"))
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="+")
    is_live = models.BooleanField()
    type = models.CharField(max_length=64)  # payment.paid, refund.created, ...
    object_type = models.CharField(max_length=32)  # payment, refund, accounting_report, payout, ...
    object_id = models.CharField(max_length=40)
    sequence = models.PositiveIntegerField()  # per object: 1, 2, 3...
    payload = models.JSONField()  # the resource exactly as the API shows it
    ipn_url = models.CharField(max_length=2048, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)  # fan-out done (deliveries created)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["object_id", "sequence"], name="unique_event_sequence"),
        ]
        indexes = [
            models.Index(fields=["dispatched_at", "created_at"]),
            models.Index(fields=["merchant", "is_live", "-created_at"]),
        ]

    def __str__(self):
        return f"{self.public_id} {self.type}"
