"""What an installment and a subscription's charge have in common: one charge on a schedule.

payments.recurring charges both the same way (claim, merchant-initiated charge, retries after a
decline, a hosted page emailed to pay with another card); the plan or the subscription owns the
schedule and says what happens when a charge is paid or fails for good.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from payments.models.payments import Payment


class ScheduledCharge(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CHARGING = "charging", _("Being charged")
        PAID = "paid", _("Paid")
        RETRYING = "retrying", _("Declined, to be retried")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")

    DUE = (Status.SCHEDULED, Status.RETRYING)
    OPEN = (Status.SCHEDULED, Status.CHARGING, Status.RETRYING)

    date = models.DateField()  # in the owner's clock (the test clock shifts it)
    amount = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    attempts = models.PositiveSmallIntegerField(default=0)  # declined merchant-initiated charges
    # Real time (the test clock shifts it): when the scheduler charges it next. Null when it is paid
    # on a hosted page (a first payment) and once nothing more is to be charged.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The merchant-initiated charge under way (status `charging`).
    charge_payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The hosted page offered to the shopper: the first payment's, or the link emailed after a decline.
    page_payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    paid_payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    paid_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
