"""The pay button's settings, kept per merchant and mode (see payments.paybutton)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from merchants.tenancy import TenantModel
from payments.models.links import list_once


class PayButtonSettings(TenantModel):
    """What the dashboard's snippet builder last saved, so that the page shows it again.

    The snippet itself carries the settings (data- attributes): a button pasted earlier keeps
    working whatever is saved here. Amounts in cents; `collect_*` is off, optional or required.
    """

    class Collect(models.TextChoices):
        OFF = "off", "off"
        OPTIONAL = "optional", "optional"
        REQUIRED = "required", "required"

    amount_type = models.CharField(max_length=8, default="fixed")  # fixed | free
    amount = models.PositiveIntegerField(null=True, blank=True)
    min_amount = models.PositiveIntegerField(null=True, blank=True)
    max_amount = models.PositiveIntegerField(null=True, blank=True)
    label = models.CharField(max_length=40, blank=True)
    description = models.CharField(max_length=255, blank=True)
    language = models.CharField(max_length=2, blank=True)
    collect_name = models.CharField(max_length=8, choices=Collect.choices, default=Collect.OFF)
    collect_email = models.CharField(max_length=8, choices=Collect.choices, default=Collect.OPTIONAL)
    # Any of "once", "month", "year" (payments.models.links.PaymentLink.frequencies).
    frequencies = models.JSONField(default=list_once)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "is_live"], name="one_pay_button_per_mode")]

    def __str__(self):
        return f"pay button of {self.merchant_id} ({'live' if self.is_live else 'test'})"
