"""Donation campaigns and their gifts.

A Campaign is a public page (/c/<slug>/) where donors give once (a payment, source "campaign")
or every month or year (a subscription, source "campaign"). Each gift is a Gift row tying the
donor's details (the postal address tax receipts will need) to its payment or subscription.
What a campaign raised is read from the ledger (associations.services.progress), never stored.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from associations import story
from merchants.tenancy import TenantModel
from payments.models import Payment, Subscription
from payplug.ids import id_factory, random_base62


def _campaign_slug() -> str:
    return random_base62(12)


def list_once() -> list[str]:
    return ["once"]


class Campaign(TenantModel):
    public_id = models.CharField(max_length=40, unique=True, default=id_factory("camp"))
    slug = models.CharField(max_length=24, unique=True, default=_campaign_slug)
    title = models.CharField(_("title"), max_length=120)
    # Limited HTML (associations.story): sanitised on save and on render.
    story = models.TextField(_("story"), blank=True, default="")
    # PNG or JPEG, validated like merchant logos; served by associations.views.picture.
    picture = models.ImageField(_("picture"), upload_to="campaigns/", blank=True)
    goal = models.PositiveIntegerField(_("goal (cents)"), null=True, blank=True)  # null: no goal
    suggested_amounts = models.JSONField(default=list, blank=True)  # cents, ascending
    min_amount = models.PositiveIntegerField(null=True, blank=True)  # null: the merchant's bounds
    max_amount = models.PositiveIntegerField(null=True, blank=True)
    # Any of "once", "month", "year", as PaymentLink.frequencies.
    frequencies = models.JSONField(default=list_once)
    show_donors = models.BooleanField(default=False)
    # The last day gifts are taken (in the merchant's time zone); null: no end.
    end_date = models.DateField(null=True, blank=True)
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

    def save(self, *args, **kwargs):
        self.story = story.sanitise(self.story)
        super().save(*args, **kwargs)


class Gift(TenantModel):
    """One donor's gift: a one-off payment, or a subscription (every payment of it counts)."""

    class Frequency(models.TextChoices):
        ONCE = "once", _("One-off")
        MONTH = "month", _("Monthly")
        YEAR = "year", _("Yearly")

    public_id = models.CharField(max_length=40, unique=True, default=id_factory("gift"))
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="gifts")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(Subscription, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    frequency = models.CharField(max_length=5, choices=Frequency.choices, default=Frequency.ONCE)
    amount = models.PositiveIntegerField()  # cents, each period for a recurring gift
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(max_length=255, blank=True, default="")
    address_line1 = models.CharField(max_length=255, blank=True, default="")
    postcode = models.CharField(max_length=16, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    country = models.CharField(max_length=2, blank=True, default="")
    public = models.BooleanField(default=False)  # the donor agreed to appear in the list
    public_name = models.CharField(max_length=60, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["campaign", "-created_at", "-id"])]
        constraints = [
            models.CheckConstraint(
                name="gift_payment_xor_subscription",
                condition=(
                    models.Q(payment__isnull=False, subscription__isnull=True)
                    | models.Q(payment__isnull=True, subscription__isnull=False)
                ),
            )
        ]

    def __str__(self):
        return self.public_id

    @property
    def shown_name(self) -> str:
        """How the public list names the donor: the chosen name, else "Jeanne M."."""
        if self.public_name:
            return self.public_name
        initial = self.last_name.strip()[:1].upper()
        return f"{self.first_name.strip()} {initial}." if initial else self.first_name.strip()
