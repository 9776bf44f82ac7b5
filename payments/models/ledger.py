"""The merchant's money: fee schedule and the double-entry ledger (posting rules in payments.money.ledger).

Amounts are integer cents everywhere.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from payments.models.payments import Payment, Refund
from payplug.ids import id_factory


class MerchantAccountSettings(models.Model):
    """What platform staff set per merchant (Django admin): fee schedule, settlement, payouts.

    Kept in the payments app (one row per merchant, created with the defaults on first use) so that
    the merchants app needs no migration for money settings.
    """

    merchant = models.OneToOneField("merchants.Merchant", on_delete=models.CASCADE, related_name="account_settings")
    fee_percent_bps = models.PositiveIntegerField(
        _("fee: percentage (basis points)"), default=140, help_text=_("140 = 1.40 % of each paid payment.")
    )
    fee_fixed = models.PositiveIntegerField(_("fee: fixed part (cents)"), default=25)
    refund_fee = models.PositiveIntegerField(_("fee per refund (cents)"), default=0)
    dispute_fee = models.PositiveIntegerField(_("fee per dispute (cents)"), default=1500)
    settlement_delay_days = models.PositiveSmallIntegerField(_("settlement delay (days)"), default=7)
    payout_minimum = models.PositiveIntegerField(_("payout minimum (cents)"), default=100)
    reserve_amount = models.PositiveIntegerField(
        _("reserve target (cents)"), default=0, help_text=_("Settlements fill the reserve up to this amount first.")
    )
    payouts_paused = models.BooleanField(_("payouts paused"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("merchant account settings")
        verbose_name_plural = _("merchant account settings")

    def __str__(self):
        return f"{self.merchant} fees {self.fee_percent_bps} bps + {self.fee_fixed}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError(f"{self.model.__name__} rows are append-only")

    def delete(self):
        raise TypeError(f"{self.model.__name__} rows are append-only")


class AppendOnlyModel(models.Model):
    """History rows: inserted once, never updated or deleted (ledger)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} rows are append-only")


class LedgerAccount(models.Model):
    """One account of the double-entry ledger: a merchant's (per mode) or the platform's (per mode)."""

    class Kind(models.TextChoices):
        PENDING = "pending", _("Pending")
        AVAILABLE = "available", _("Available")
        RESERVE = "reserve", _("Reserve")
        PAYOUTS_IN_TRANSIT = "payouts_in_transit", _("Payouts in transit")
        FEES = "fees", _("Platform fees")
        ACQUIRER_CLEARING = "acquirer_clearing", _("Acquirer clearing")
        DISPUTES = "disputes", _("Disputed funds")
        PAYOUTS_SENT = "payouts_sent", _("Payouts sent (bank)")

    MERCHANT_KINDS = (Kind.PENDING, Kind.AVAILABLE, Kind.RESERVE, Kind.PAYOUTS_IN_TRANSIT)
    PLATFORM_KINDS = (Kind.FEES, Kind.ACQUIRER_CLEARING, Kind.DISPUTES, Kind.PAYOUTS_SENT)

    # "m<merchant id>:<test|live>:<kind>" or "platform:<test|live>:<kind>": unique on every database
    # (a unique index over a nullable merchant would let two platform rows in on MySQL).
    code = models.CharField(max_length=80, unique=True)
    merchant = models.ForeignKey("merchants.Merchant", null=True, on_delete=models.PROTECT, related_name="+")
    is_live = models.BooleanField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["merchant", "is_live", "kind"])]

    def __str__(self):
        return self.code


class LedgerTransaction(AppendOnlyModel):
    """One balanced movement (its entries sum to zero), written with the state change that causes it.

    gross / fee / net summarise it from the merchant's point of view (net = the change of the
    merchant's pending + available + reserve); they are what accounting reports show.
    """

    class Kind(models.TextChoices):
        CAPTURE = "capture", _("Payment")
        REFUND = "refund", _("Refund")
        FEE = "fee", _("Fee")
        CHARGEBACK = "chargeback", _("Chargeback")
        CHARGEBACK_REVERSAL = "chargeback_reversal", _("Chargeback reversed (dispute won)")
        CHARGEBACK_LOST = "chargeback_lost", _("Chargeback final (dispute lost)")
        SETTLEMENT = "settlement", _("Settlement")
        PAYOUT = "payout", _("Payout")
        PAYOUT_PAID = "payout_paid", _("Payout paid")
        PAYOUT_FAILED = "payout_failed", _("Payout failed: returned")
        ADJUSTMENT = "adjustment", _("Reserve adjustment")

    public_id = models.CharField(max_length=40, unique=True, default=id_factory("ltx"))
    # Business key of the posting ("capture:<payment pk>", ...): a second posting of the same
    # event is refused by the database, whatever the code path that tried it.
    unique_key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    is_live = models.BooleanField()
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    refund = models.ForeignKey(Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    dispute = models.ForeignKey("Dispute", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    payout = models.ForeignKey("Payout", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    gross = models.BigIntegerField(default=0)
    fee = models.BigIntegerField(default=0)
    net = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="EUR")
    description = models.CharField(max_length=255, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["merchant", "is_live", "created_at", "id"]),
            models.Index(fields=["payment", "kind"]),
        ]

    def __str__(self):
        return f"{self.public_id} {self.kind}"


class LedgerEntry(AppendOnlyModel):
    """One line: a signed amount on one account. Positive credits the account (its owner holds more)."""

    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()
    # When money on a pending account becomes due for settlement; = created_at on other accounts.
    available_on = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # Covering indexes: balances (sum by account), daily series, settlement windows.
            models.Index(fields=["account", "created_at", "amount"], name="ledger_entry_balance"),
            models.Index(fields=["account", "available_on", "amount"], name="ledger_entry_due"),
        ]

    def __str__(self):
        return f"{self.account_id} {self.amount:+d}"
