"""Fraud decisions (one per payment), labels, merchant rules and lists, settings and model versions."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fraud.rules import RuleError, parse
from merchants.tenancy import TenantModel


class Decision(models.Model):
    class Outcome(models.TextChoices):
        CAPTURE = "capture", _("Capture")
        REVIEW = "review", _("Review")
        REFUSE = "refuse", _("Refuse")

    class Review(models.TextChoices):
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        AUTO_APPROVED = "auto_approved", _("Approved at the deadline")
        AUTO_REFUSED = "auto_refused", _("Refused at the deadline")

    payment = models.OneToOneField("payments.Payment", on_delete=models.CASCADE, related_name="fraud_decision")
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="+")
    is_live = models.BooleanField()
    score = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    rule = models.CharField(max_length=255, blank=True)  # the rule (or list, or override) that decided
    reasons = models.JSONField(default=list)  # top contributing features: [{feature, value, contribution}]
    features = models.JSONField(default=dict)  # the rule context at decision time (dry runs, training)
    model_version = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Reviews: the deadline fraud acts on (before payments' own review_deadline), and the outcome.
    review_action_at = models.DateTimeField(null=True, blank=True)
    review_outcome = models.CharField(max_length=16, choices=Review.choices, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["merchant", "is_live", "-created_at"]),
            models.Index(fields=["outcome", "review_outcome", "review_action_at"]),
        ]

    def __str__(self):
        return f"{self.payment_id}: {self.outcome} ({self.score})"


class Label(models.Model):
    """What we learnt about a payment after the fact, and when we learnt it (the label time)."""

    class Source(models.TextChoices):
        MERCHANT = "merchant", _("Reported by the merchant")
        DISPUTE_LOST = "dispute_lost", _("Dispute lost")
        REVIEW_REJECTED = "review_rejected", _("Rejected in review")
        REVIEW_APPROVED = "review_approved", _("Approved in review")

    payment = models.ForeignKey("payments.Payment", on_delete=models.CASCADE, related_name="fraud_labels")
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="+")
    is_live = models.BooleanField()
    source = models.CharField(max_length=20, choices=Source.choices)
    is_fraud = models.BooleanField()
    fraud_reported_at = models.DateTimeField()  # when the label became known: training never looks past it
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["payment", "source"], name="fraud_label_once_per_source")]
        indexes = [models.Index(fields=["merchant", "is_live", "fraud_reported_at"])]

    def __str__(self):
        return f"{self.payment_id}: {self.source}"


class FraudSettings(models.Model):
    """A merchant's fraud settings (both modes)."""

    class Unreviewed(models.TextChoices):
        REFUSE = "refuse", _("Refuse it (void the authorisation)")
        APPROVE = "approve", _("Approve it (capture)")

    merchant = models.OneToOneField("merchants.Merchant", on_delete=models.CASCADE, related_name="fraud_settings")
    unreviewed_action = models.CharField(
        _("when a review is not done in time"),
        max_length=10,
        choices=Unreviewed.choices,
        default=Unreviewed.REFUSE,
    )
    review_hours = models.PositiveSmallIntegerField(
        _("time to review (hours)"),
        default=48,
        help_text=_("At most 160 hours: the authorisation itself expires after 7 days."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"fraud settings of {self.merchant_id}"

    def clean(self):
        if not 1 <= self.review_hours <= 160:
            raise ValidationError({"review_hours": _("Between 1 and 160 hours.")})


class Rule(TenantModel):
    """One ordered rule of a merchant in one mode, in the language of fraud.rules."""

    position = models.PositiveIntegerField(default=0)
    source = models.CharField(_("rule"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["merchant", "is_live", "position"])]

    def __str__(self):
        return self.source

    @property
    def action(self) -> str:
        return self.source.strip().split(" ", 1)[0]

    def clean(self):
        try:
            parse(self.source)
        except RuleError as error:
            raise ValidationError({"source": str(error)}) from None

    def save(self, *args, **kwargs):
        self.clean()  # a rule that does not parse never reaches the table
        super().save(*args, **kwargs)


class ListEntry(TenantModel):
    """An allow or block list entry of a merchant in one mode."""

    class List(models.TextChoices):
        ALLOW = "allow", _("Allow list")
        BLOCK = "block", _("Block list")

    class Kind(models.TextChoices):
        CARD = "card", _("Card fingerprint")
        EMAIL = "email", _("Email")
        IP = "ip", _("IP address")
        COUNTRY = "country", _("Country (card, IP or billing)")
        BIN = "bin", _("Card BIN (first 6 to 8 digits)")

    list = models.CharField(max_length=5, choices=List.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=255)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "is_live", "list", "kind", "value"], name="fraud_list_unique")
        ]
        indexes = [models.Index(fields=["merchant", "is_live", "kind", "value"])]

    def __str__(self):
        return f"{self.list} {self.kind} {self.value}"


class ModelVersion(models.Model):
    """A trained model: the LightGBM dump, its features and metrics. At most one is active."""

    name = models.CharField(max_length=40, unique=True)
    artifact = models.TextField()
    feature_names = models.JSONField(default=list)
    metrics = models.JSONField(default=dict)
    parameters = models.JSONField(default=dict)
    trained_from = models.DateTimeField(null=True, blank=True)
    trained_until = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name
