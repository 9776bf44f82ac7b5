"""Tenant scoping: every merchant-owned row is read through (merchant, mode)."""

from django.db import models


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, merchant, is_live: bool):
        return self.filter(merchant=merchant, is_live=is_live)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    pass


class TenantModel(models.Model):
    """Abstract base of every row that belongs to one merchant in one mode."""

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="+")
    is_live = models.BooleanField(default=False)

    objects = TenantManager()

    class Meta:
        abstract = True
