"""Payments, refunds, customers, saved cards, the card vault and idempotency records.

State lives on the rows; every change goes through `payments.services`.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.tenancy import TenantModel, TenantQuerySet
from payplug.ids import id_factory

REFUND_WINDOW_DAYS = 396  # 13 calendar months, rounded up (spec §7.1 decision)
PAGE_LIFETIME = timedelta(hours=24)
AUTHORIZATION_LIFETIME = timedelta(days=7)
REVIEW_DEADLINE = timedelta(hours=48)
MAX_FAILED_ATTEMPTS = 3


def _link_slug() -> str:
    from payplug.ids import random_base62

    return random_base62(12)


def format_money(cents: int, currency: str, language: str | None = None) -> str:
    """Display only, in the active language (or `language`): '€1,234.56' in English, '1 234,56 €'
    in French. Money is stored and computed in integer cents; the API and the CSV exports never
    use this. The same formatter as the hosted payment pages (payments.display.format_amount),
    with the sign in front: '-€12.50', '-12,50 €'."""
    from .display import format_amount

    cents = int(cents)
    text = format_amount(abs(cents), currency, language)
    return f"-{text}" if cents < 0 else text


class LiveQuerySet(TenantQuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)


class VaultEntry(models.Model):
    """One card number, encrypted with its own data key (AES-256-GCM), itself wrapped by the key ring."""

    token = models.CharField(max_length=40, unique=True, default=id_factory("vault"))
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="+")
    key_version = models.PositiveIntegerField()
    wrapped_key = models.BinaryField()
    ciphertext = models.BinaryField()
    fingerprint = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rewrapped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["key_version"])]

    def __str__(self):
        return self.token


class Customer(TenantModel):
    public_id = models.CharField(max_length=40, unique=True, default=id_factory("cus"))
    email = models.CharField(max_length=255)
    first_name = models.CharField(max_length=100, null=True)
    last_name = models.CharField(max_length=100, null=True)
    address1 = models.CharField(max_length=255, null=True)
    address2 = models.CharField(max_length=255, null=True)
    postcode = models.CharField(max_length=16, null=True)
    city = models.CharField(max_length=100, null=True)
    country = models.CharField(max_length=2, null=True)
    metadata = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = LiveQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["merchant", "is_live", "-created_at", "-id"])]

    def __str__(self):
        return self.public_id


class Card(TenantModel):
    """A saved card (one-click). Holds only the vault token and what may be shown."""

    class Brand(models.TextChoices):
        VISA = "Visa"
        MASTERCARD = "Mastercard"
        MAESTRO = "Maestro"
        CB = "CB"

    public_id = models.CharField(max_length=40, unique=True, default=id_factory("card"))
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="cards")
    vault_entry = models.ForeignKey(VaultEntry, on_delete=models.PROTECT, related_name="+")
    fingerprint = models.CharField(max_length=64)
    brand = models.CharField(max_length=12, choices=Brand.choices)
    last4 = models.CharField(max_length=4)
    bin = models.CharField(max_length=6, blank=True)  # first six digits: allowed in clear by PCI DSS
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    country = models.CharField(max_length=2, null=True)
    metadata = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = LiveQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["merchant", "is_live", "-created_at", "-id"])]

    def __str__(self):
        return self.public_id

    def is_expired(self, today=None) -> bool:
        today = today or timezone.now().date()
        return (self.exp_year, self.exp_month) < (today.year, today.month)


class Payment(TenantModel):
    class Status(models.TextChoices):
        CREATED = "created", _("Awaiting payment")  # payable; `failure` may show a retryable failure
        PENDING = "pending", _("Processing")  # 3-D Secure running, or acquirer answer unknown
        AUTHORIZED = "authorized", _("Authorised")  # waiting for the fraud decision
        IN_REVIEW = "in_review", _("In review")
        CAPTURABLE = "capturable", _("Authorised, awaiting capture")  # deferred, accepted by fraud checks
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")

    PAYABLE = (Status.CREATED,)

    public_id = models.CharField(max_length=40, unique=True, default=id_factory("pay"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CREATED)
    amount = models.PositiveIntegerField()
    amount_refunded = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default="EUR")
    is_deferred = models.BooleanField(default=False)
    auto_capture = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField()  # the hosted page stops being payable
    paid_at = models.DateTimeField(null=True, blank=True)
    hosted_paid_at = models.DateTimeField(null=True, blank=True)
    authorized_at = models.DateTimeField(null=True, blank=True)
    authorization_expires_at = models.DateTimeField(null=True, blank=True)
    review_deadline = models.DateTimeField(null=True, blank=True)
    is_3ds = models.BooleanField(default=False)
    save_card = models.BooleanField(default=False)
    allow_save_card = models.BooleanField(default=False)
    force_3ds = models.BooleanField(default=False)
    initiator = models.CharField(max_length=10, null=True)
    payment_method = models.CharField(max_length=40, null=True)  # the card_ id of a one-click payment

    # The card of the attempt that settled (or last tried) the payment: display data only.
    card = models.ForeignKey(Card, null=True, blank=True, on_delete=models.SET_NULL, related_name="payments")
    card_public_id = models.CharField(max_length=40, null=True)
    card_last4 = models.CharField(max_length=4, null=True)
    card_bin = models.CharField(max_length=6, null=True)
    card_brand = models.CharField(max_length=20, null=True)
    card_country = models.CharField(max_length=2, null=True)
    card_exp_month = models.PositiveSmallIntegerField(null=True)
    card_exp_year = models.PositiveSmallIntegerField(null=True)
    card_fingerprint = models.CharField(max_length=64, null=True)

    billing = models.JSONField(default=dict)
    shipping = models.JSONField(null=True)
    return_url = models.CharField(max_length=2048, null=True)
    cancel_url = models.CharField(max_length=2048, null=True)
    sent_by = models.CharField(max_length=8, null=True)
    hosted_token = models.CharField(max_length=48, unique=True, null=True)
    notification_url = models.CharField(max_length=2048, null=True)
    notification_response_code = models.IntegerField(null=True)
    failure_code = models.CharField(max_length=40, null=True)
    failure_message = models.CharField(max_length=255, null=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=255, null=True)
    metadata = models.JSONField(default=dict)
    customer_public_id = models.CharField(max_length=40, null=True)
    payment_context = models.JSONField(null=True)
    dispute = models.JSONField(null=True)

    # Where the payment came from (API, payment link, pay button), and the shopper's context.
    source = models.CharField(max_length=20, default="api")
    shopper_ip = models.GenericIPAddressField(null=True, blank=True)
    shopper_language = models.CharField(max_length=8, null=True)
    link = models.ForeignKey("PaymentLink", null=True, blank=True, on_delete=models.SET_NULL, related_name="payments")
    # Set once, by the first receipt task that claims it (payments.receipts): one receipt per payment.
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    # billing.email copied into an indexed column for the back office's filter (set at creation).
    billing_email = models.CharField(max_length=255, null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["status", "authorization_expires_at"]),
            # Lists, newest first: (created_at, id) alone or after a filter. Ascending on purpose:
            # MariaDB range-scans a descending index slowly from a keyset cursor (10x at a million
            # rows) and reads an ascending one backwards as fast; this one also serves the API list.
            models.Index(fields=["merchant", "is_live", "created_at", "id"], name="payment_keyset"),
            models.Index(fields=["merchant", "is_live", "status", "created_at", "id"], name="payment_status_keyset"),
            models.Index(
                fields=["merchant", "is_live", "billing_email", "created_at", "id"], name="payment_email_keyset"
            ),
            models.Index(fields=["merchant", "is_live", "card_last4", "created_at", "id"], name="payment_last4_keyset"),
        ]

    def __str__(self):
        return self.public_id

    @property
    def is_paid(self) -> bool:
        return self.status == self.Status.PAID

    @property
    def is_refunded(self) -> bool:
        return self.is_paid and self.amount_refunded >= self.amount

    @property
    def is_payable(self) -> bool:
        return self.status == self.Status.CREATED and self.expires_at > timezone.now()

    @property
    def refundable_after(self):
        return self.paid_at

    @property
    def refundable_until(self):
        return self.paid_at + timedelta(days=REFUND_WINDOW_DAYS) if self.paid_at else None

    @property
    def remaining_amount(self) -> int:
        return self.amount - self.amount_refunded

    @property
    def amount_display(self) -> str:
        return format_money(self.amount, self.currency)

    @property
    def amount_refunded_display(self) -> str:
        return format_money(self.amount_refunded, self.currency)


class PaymentLink(TenantModel):
    """A shareable page (/l/<slug>/) where each visit creates its own payment (source "link").

    Fixed amount (`amount`), or a free amount between `min_amount` and `max_amount` (donations);
    optionally a quantity; and which shopper fields the page collects.
    """

    public_id = models.CharField(max_length=40, unique=True, default=id_factory("plink"))
    slug = models.CharField(max_length=24, unique=True, default=_link_slug)
    description = models.CharField(_("description"), max_length=255)
    amount = models.PositiveIntegerField(_("amount (cents)"), null=True, blank=True)  # null: free amount
    min_amount = models.PositiveIntegerField(null=True, blank=True)
    max_amount = models.PositiveIntegerField(null=True, blank=True)
    ask_quantity = models.BooleanField(default=False)
    max_quantity = models.PositiveSmallIntegerField(default=10)
    collect_name = models.BooleanField(default=False)
    collect_email = models.BooleanField(default=True)
    collect_address = models.BooleanField(default=False)
    return_url = models.CharField(max_length=2048, null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["merchant", "is_live", "-created_at", "-id"])]

    def __str__(self):
        return self.public_id

    @property
    def is_free_amount(self) -> bool:
        return self.amount is None


class PaymentAttempt(models.Model):
    """One try with one card on one payment: the card as entered, the acquirer's answer."""

    class Status(models.TextChoices):
        AWAITING_3DS = "awaiting_3ds"
        PROCESSING = "processing"  # sent to the acquirer
        UNKNOWN = "unknown"  # no answer: reconciliation asks the acquirer
        AUTHORIZED = "authorized"
        FAILED = "failed"
        VOIDED = "voided"
        CAPTURED = "captured"

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="attempts")
    public_id = models.CharField(max_length=40, unique=True, default=id_factory("att"))
    status = models.CharField(max_length=14, choices=Status.choices)
    vault_entry = models.ForeignKey(VaultEntry, null=True, on_delete=models.PROTECT, related_name="+")
    saved_card = models.ForeignKey(Card, null=True, on_delete=models.SET_NULL, related_name="+")
    card_last4 = models.CharField(max_length=4)
    card_bin = models.CharField(max_length=6, blank=True)
    card_brand = models.CharField(max_length=20)  # also unaccepted brands ("American Express")
    card_country = models.CharField(max_length=2, null=True)
    card_exp_month = models.PositiveSmallIntegerField()
    card_exp_year = models.PositiveSmallIntegerField()
    card_fingerprint = models.CharField(max_length=64)
    save_card = models.BooleanField(default=False)
    is_3ds = models.BooleanField(default=False)
    acquirer = models.CharField(max_length=20)
    acquirer_reference = models.CharField(max_length=80, blank=True)
    # One idempotency key per acquirer operation kind; inquiry uses the authorisation one.
    idempotency_key = models.CharField(max_length=64, unique=True, default=id_factory("idem", 32))
    failure_code = models.CharField(max_length=40, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    shopper_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self):
        return self.public_id


class Refund(TenantModel):
    @property
    def amount_display(self) -> str:
        return format_money(self.amount, self.currency)

    public_id = models.CharField(max_length=40, unique=True, default=id_factory("re"))
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="EUR")
    metadata = models.JSONField(default=dict)
    acquirer_reference = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=255, blank=True)  # "api sk_test_AbCd" or a dashboard user

    class Meta:
        indexes = [models.Index(fields=["payment", "-created_at", "-id"])]

    def __str__(self):
        return self.public_id


class IdempotencyRecord(models.Model):
    """A POST/PATCH with an `Idempotency-Key` (spec §4): the request's hash and its stored answer."""

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="+")
    is_live = models.BooleanField()
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)  # null while the first request runs
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "is_live", "key"], name="unique_idempotency_key"),
        ]

    def __str__(self):
        return self.key


class SandboxOperation(models.Model):
    """The sandbox acquirer's own memory: what it answered to each idempotency key."""

    idempotency_key = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=16)
    reference = models.CharField(max_length=80)
    behaviour = models.CharField(max_length=32)
    amount = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=16)
    failure_code = models.CharField(max_length=40, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.kind} {self.reference}"


# --- merchant money: fee schedule, ledger, disputes, payouts, accounting reports ------------------
# Amounts are integer cents everywhere. See payments/ledger.py for the posting rules.


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


class ScheduledChargeback(models.Model):
    """Sandbox only: the chargeback that the dispute test card produces a few minutes after capture."""

    payment = models.OneToOneField(Payment, on_delete=models.CASCADE, related_name="scheduled_chargeback")
    due_at = models.DateTimeField(db_index=True)
    opened_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"chargeback of {self.payment_id} due {self.due_at:%Y-%m-%d %H:%M}"


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
