"""Subscriptions (our extension of the v1 API): a fixed amount charged every month or year.

Recurring donations and memberships. The first payment is made on the hosted page, where the
subscriber consents to the future charges (strong authentication there); the later ones are
charged on their dates, merchant-initiated, on the card saved then (payments.subscriptions).
Each charge is an ordinary payment carrying `subscription` and its period number.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.tenancy import TenantModel
from payments.models.payments import Card
from payments.models.scheduled import ScheduledCharge
from payplug.ids import id_factory


class Subscription(TenantModel):
    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", _("Waiting for the first payment")
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Past due")
        PAUSED = "paused", _("Paused")
        CANCELED = "canceled", _("Canceled")
        ENDED = "ended", _("Ended")

    class Interval(models.TextChoices):
        MONTH = "month", _("Monthly")
        YEAR = "year", _("Yearly")

    class CanceledBy(models.TextChoices):
        API = "api", _("the integration (API)")
        MERCHANT = "merchant", _("the merchant")
        SUBSCRIBER = "subscriber", _("the subscriber")
        PAYMENT_FAILED = "payment_failed", _("failed payments")
        FIRST_PAYMENT = "first_payment", _("first payment not made")

    # Charges are taken while the subscription is in one of these.
    CHARGEABLE = (Status.ACTIVE, Status.PAST_DUE)
    OPEN = (Status.INCOMPLETE, Status.ACTIVE, Status.PAST_DUE, Status.PAUSED)

    public_id = models.CharField(max_length=40, unique=True, default=id_factory("sub"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.INCOMPLETE)
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="EUR")
    interval = models.CharField(max_length=5, choices=Interval.choices)
    interval_count = models.PositiveSmallIntegerField(default=1)
    # The first charge's date (the schedule's anchor), in the merchant's time zone.
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)  # no charge after this date
    max_charges = models.PositiveIntegerField(null=True, blank=True)  # or after this many charges
    description = models.CharField(max_length=255, null=True, blank=True)
    billing = models.JSONField(default=dict)
    return_url = models.CharField(max_length=2048, null=True)
    cancel_url = models.CharField(max_length=2048, null=True)
    notification_url = models.CharField(max_length=2048, null=True)
    notification_response_code = models.IntegerField(null=True)
    metadata = models.JSONField(default=dict)
    source = models.CharField(max_length=20, default="api")  # api, link, button
    link = models.ForeignKey(
        "PaymentLink", null=True, blank=True, on_delete=models.SET_NULL, related_name="subscriptions"
    )
    # The card the charges are taken on: saved by the first payment, replaced by the subscriber.
    card = models.ForeignKey(Card, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The subscriber's consent to the future charges, given on the hosted page: when, from where,
    # and the exact words shown.
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_ip = models.GenericIPAddressField(null=True, blank=True)
    consent_text = models.TextField(blank=True, default="")
    paid_charges = models.PositiveIntegerField(default=0)
    failure_code = models.CharField(max_length=40, null=True, blank=True)
    failure_message = models.CharField(max_length=255, null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)  # the first payment went through
    paused_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    canceled_by = models.CharField(max_length=16, choices=CanceledBy.choices, null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # "YYYY-MM" of the card expiry already warned about (one card-expiry email per card and expiry).
    expiry_warned_for = models.CharField(max_length=7, blank=True, default="")
    # Test mode only: how far the subscription's clock was advanced (POST .../test_clock).
    clock_offset = models.DurationField(default=timedelta(0))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["merchant", "is_live", "created_at", "id"], name="subscription_keyset"),
            models.Index(fields=["merchant", "is_live", "status"], name="subscription_status"),
        ]

    def __str__(self):
        return self.public_id

    def now(self):
        return timezone.now() + self.clock_offset

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    def monthly_amount(self) -> int:
        """What the subscription brings in a month, in cents (for the monthly recurring revenue)."""
        months = self.interval_count * (12 if self.interval == self.Interval.YEAR else 1)
        return round(self.amount / months)


class SubscriptionCharge(ScheduledCharge):
    """One period's charge. Period 1 is paid on the hosted page when the subscription starts today;
    the next period's charge is created when one is paid."""

    Status = ScheduledCharge.Status

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="charges")
    period = models.PositiveIntegerField()  # 1 for the first charge
    # The reminder emailed before a yearly charge (payments.subscriptions.remind_upcoming), once.
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["period"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "period"], name="subscription_charge_unique_period")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="subscription_charge_due")]

    def __str__(self):
        return f"{self.subscription_id}#{self.period}"
