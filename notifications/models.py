"""The transactional outbox and what it fans out to.

Event: one per state change, written in the changing transaction (services.publish).
WebhookEndpoint / IpnSecret: where and how merchants are told (signing secrets encrypted at rest).
Delivery / DeliveryAttempt: one delivery per (event, target), every HTTP attempt recorded.
EmailSubscription: which emails a team member wants, per organisation and mode.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from payplug.ids import id_factory

# Event types a webhook endpoint may subscribe to (spec §15, plus the platform's own). Events of
# other types are still recorded and reach internal subscribers; endpoints never see them.
WEBHOOK_EVENT_TYPES = [
    ("payment.authorized", _("A payment was authorised (before fraud checks)")),
    ("payment.capturable", _("A deferred payment can be captured")),
    ("payment.review_required", _("A payment needs a fraud review")),
    ("payment.paid", _("A payment was paid")),
    ("payment.failed", _("A payment attempt failed, or a payment failed for good")),
    ("payment.disputed", _("A chargeback arrived")),
    ("refund.created", _("A refund was created")),
    ("accounting_report.available", _("An accounting report is ready")),
    ("payout.paid", _("A payout was sent to the bank account")),
    ("installment_plan.created", _("An installment plan was created")),
    ("installment_plan.fully_paid", _("Every installment of a plan was paid")),
    ("installment_plan.failed", _("An installment plan failed for good")),
    ("installment_plan.aborted", _("An installment plan was aborted")),
    ("subscription.created", _("A subscription was created")),
    ("subscription.activated", _("A subscription started (its first payment or card check went through)")),
    ("subscription.payment_succeeded", _("A subscription's charge was paid")),
    ("subscription.payment_failed", _("A subscription's charge was declined")),
    ("subscription.card_updated", _("A subscriber replaced their card")),
    ("subscription.card_expiring", _("A subscriber's card expires before its next charge")),
    ("subscription.paused", _("A subscription was paused")),
    ("subscription.resumed", _("A subscription was resumed")),
    ("subscription.canceled", _("A subscription was canceled")),
    ("subscription.ended", _("A subscription reached its end")),
]


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
    # When the sweeper last re-enqueued an undispatched event, so that a backlog is not re-queued
    # on every sweep.
    swept_at = models.DateTimeField(null=True, blank=True)

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


class SigningSecretMixin(models.Model):
    """A `whsec_` secret, encrypted with the key ring (AES-256-GCM, bound to the row's identity).

    The value is shown once, when created or rotated; we keep it (encrypted, not hashed) because
    every delivery must be signed with it. During a rotation the previous secret keeps signing
    until `previous_secret_expires_at`, so receivers can switch without dropping a delivery.
    """

    secret_key_version = models.PositiveSmallIntegerField(default=0)
    secret_encrypted = models.BinaryField(default=b"")
    previous_secret_key_version = models.PositiveSmallIntegerField(null=True, blank=True)
    previous_secret_encrypted = models.BinaryField(null=True, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    secret_created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class WebhookEndpoint(SigningSecretMixin):
    class DisabledReason(models.TextChoices):
        BY_USER = "by_user", _("Disabled by a team member")
        FAILING = "failing", _("Disabled after failing for 3 days")

    public_id = models.CharField(max_length=40, unique=True, default=id_factory("we"), editable=False)
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="+")
    is_live = models.BooleanField(default=False)
    url = models.CharField(max_length=2048)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)
    is_enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=16, choices=DisabledReason.choices, blank=True)
    # Start of the current unbroken run of failed attempts; reset by any success.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["merchant", "is_live", "is_enabled"])]
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.public_id} {self.url}"

    def subscribes_to(self, event_type: str) -> bool:
        return event_type in (self.event_types or [])


class IpnSecret(SigningSecretMixin):
    """The secret that signs IPNs of one merchant in one mode (spec §15). Created on first use."""

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="+")
    is_live = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "is_live"], name="unique_ipn_secret_per_mode")]

    def __str__(self):
        return f"IPN secret of {self.merchant_id} ({'live' if self.is_live else 'test'})"


class Delivery(models.Model):
    """One event to one target. `target_key` makes the fan-out idempotent: a redelivered
    dispatch finds the row it already created instead of adding a second one."""

    class Kind(models.TextChoices):
        IPN = "ipn", _("IPN")
        WEBHOOK = "webhook", _("Webhook")
        EMAIL = "email", _("Email")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    public_id = models.CharField(max_length=40, unique=True, default=id_factory("dlv"), editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="+")
    is_live = models.BooleanField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    target_key = models.CharField(max_length=64)  # "ipn", "webhook:<endpoint pk>", "email:<user pk>"
    target = models.CharField(max_length=2048)  # the URL or email address, as when the delivery was created
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Attempts allowed before the delivery fails; a manual resend raises it by one.
    max_attempts = models.PositiveSmallIntegerField(default=9)
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    last_status_code = models.IntegerField(null=True, blank=True)
    # Lease of the worker making an attempt (compare-and-set claim); the task id lets the same
    # Celery message, redelivered after its worker died, take the lease back at once.
    locked_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True, default="")
    enqueued_at = models.DateTimeField(null=True, blank=True)  # a task was last queued for it
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "target_key"], name="unique_delivery_per_target")]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["merchant", "is_live", "-created_at"]),
        ]

    def __str__(self):
        return f"{self.public_id} {self.kind} {self.status}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    status_code = models.IntegerField(default=0)  # 0: no HTTP answer (refused, timeout, connection error)
    succeeded = models.BooleanField(default=False)
    latency_ms = models.PositiveIntegerField(default=0)
    response_body = models.TextField(blank=True, default="")  # the first 1 KB
    error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="unique_attempt_number")]
        ordering = ["number"]

    def __str__(self):
        return f"{self.delivery_id}#{self.number} {self.status_code}"


class EmailSubscription(models.Model):
    """The emails one team member receives about one organisation in one mode."""

    class Topic(models.TextChoices):
        PAYMENT_RECEIVED = "payment_received", _("Payment received")
        REVIEW_NEEDED = "review_needed", _("Payment needs a fraud review")
        PAYOUT_SENT = "payout_sent", _("Payout sent")
        DAILY_SUMMARY = "daily_summary", _("Daily summary")
        DISPUTES = "disputes", _("Dispute opened, and a reminder before its response deadline")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="+")
    is_live = models.BooleanField()
    topics = models.JSONField(default=list)
    last_summary_date = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "merchant", "is_live"], name="unique_email_subscription")
        ]

    def __str__(self):
        return f"{self.user_id} @ {self.merchant_id} ({'live' if self.is_live else 'test'}): {self.topics}"


# Which event type feeds which email topic.
EMAIL_TOPIC_EVENTS = {
    "payment.paid": EmailSubscription.Topic.PAYMENT_RECEIVED,
    "payment.review_required": EmailSubscription.Topic.REVIEW_NEEDED,
    "payout.paid": EmailSubscription.Topic.PAYOUT_SENT,
}
