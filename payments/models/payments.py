"""Payments, their attempts and refunds, customers and saved cards.

State lives on the rows; every change goes through `payments.services`.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.tenancy import TenantModel, TenantQuerySet
from payments.amounts import format_money
from payments.models.vault import VaultEntry
from payplug.ids import id_factory

REFUND_WINDOW_DAYS = 396  # 13 calendar months, rounded up (spec §7.1 decision)
PAGE_LIFETIME = timedelta(hours=24)
AUTHORIZATION_LIFETIME = timedelta(days=7)
REVIEW_DEADLINE = timedelta(hours=48)
MAX_FAILED_ATTEMPTS = 3


class LiveQuerySet(TenantQuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)


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
        AMERICAN_EXPRESS = "American Express"  # saved only where the merchant accepts it

    public_id = models.CharField(max_length=40, unique=True, default=id_factory("card"))
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="cards")
    vault_entry = models.ForeignKey(VaultEntry, on_delete=models.PROTECT, related_name="+")
    fingerprint = models.CharField(max_length=64)
    brand = models.CharField(max_length=20, choices=Brand.choices)
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
    # The installment plan this payment pays an installment of (1-based index), else null. Keyed by
    # the plan's public id, so that the representation's `installment_plan_id` needs no join.
    installment_plan = models.ForeignKey(
        "InstallmentPlan",
        to_field="public_id",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    installment_index = models.PositiveSmallIntegerField(null=True, blank=True)
    # The subscription this payment pays a period of (1-based `subscription_period`); with a null
    # period, the card check that saves a subscriber's new card (authorised, then voided).
    subscription = models.ForeignKey(
        "Subscription",
        to_field="public_id",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    subscription_period = models.PositiveIntegerField(null=True, blank=True)
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
    def status_display(self) -> str:
        """The status a person reads: a paid payment refunded in full or in part says so."""
        if self.is_paid and self.amount_refunded:
            return _("Refunded") if self.is_refunded else _("Partially refunded")
        return self.get_status_display()

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
