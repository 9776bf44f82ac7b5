"""Payment links: a shareable page that creates payments (see payments.links)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.tenancy import TenantModel
from payplug.ids import id_factory, random_base62


def _link_slug() -> str:
    return random_base62(12)


def list_once() -> list[str]:
    return ["once"]


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
    # How often the shopper may give or pay: any of "once", "month", "year" (a monthly or yearly
    # choice starts a subscription, payments.subscriptions). ["once"] is an ordinary link.
    frequencies = models.JSONField(default=list_once)
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
