"""Keep Merchant.live_ready up to date when what the live-mode rule reads changes outside the row,
and tell the API key cache (merchants.keycache) when a merchant or an API key changes.

Merchant.save() covers the merchant's own fields (status, profile). These receivers, connected in
MerchantsConfig.ready(), cover the rest: memberships (who is an owner or admin) and the second
factors of users (django_otp devices: a confirmed TOTP app or backup codes). Writes that send no
signal (QuerySet.update() on these tables, raw SQL) must call organisations.refresh_live_ready themselves.
"""

from __future__ import annotations

from django.db.models import QuerySet, signals
from django_otp import device_classes

from merchants import keycache
from merchants.models import ApiKey, Membership, Merchant
from merchants.services.organisations import refresh_live_ready, refresh_live_ready_for_users

# The only fields of a device that the rule reads.
_DEVICE_STATE = "_live_ready_state"


def _deleting_the_merchant(origin) -> bool:
    return isinstance(origin, Merchant) or (isinstance(origin, QuerySet) and origin.model is Merchant)


def membership_saved(sender, instance, **kwargs):
    refresh_live_ready([instance.merchant_id])


def membership_deleted(sender, instance, origin=None, **kwargs):
    if _deleting_the_merchant(origin):
        return  # the merchant row goes too
    refresh_live_ready([instance.merchant_id])


def device_saving(sender, instance, raw=False, **kwargs):
    """Remember who the device belonged to and whether it was confirmed, before this save."""
    if raw or instance._state.adding or instance.pk is None:
        setattr(instance, _DEVICE_STATE, None)
        return
    before = sender.objects.filter(pk=instance.pk).values_list("user_id", "confirmed").first()
    setattr(instance, _DEVICE_STATE, before)


def device_saved(sender, instance, created=False, raw=False, **kwargs):
    if raw:
        return
    before = getattr(instance, _DEVICE_STATE, None)
    after = (instance.user_id, bool(instance.confirmed))
    if before is not None:
        before = (before[0], bool(before[1]))
    if before == after or (before is None and not after[1]):
        # Nothing the rule reads changed (a login's code check saves the device every time), or a new
        # device still to be confirmed.
        return
    refresh_live_ready_for_users({after[0], before[0] if before else None})


def device_deleted(sender, instance, **kwargs):
    if instance.confirmed:
        refresh_live_ready_for_users([instance.user_id])


def authentication_data_changed(sender, raw=False, **kwargs):
    if not raw:
        keycache.changed()


def connect() -> None:
    for model in (Merchant, ApiKey):
        name = model._meta.model_name
        signals.post_save.connect(authentication_data_changed, sender=model, dispatch_uid=f"keycache_{name}_saved")
        signals.post_delete.connect(authentication_data_changed, sender=model, dispatch_uid=f"keycache_{name}_deleted")

    signals.post_save.connect(membership_saved, sender=Membership, dispatch_uid="live_ready_membership_saved")
    signals.post_delete.connect(membership_deleted, sender=Membership, dispatch_uid="live_ready_membership_deleted")
    for model in device_classes():
        label = model._meta.label_lower
        signals.pre_save.connect(device_saving, sender=model, dispatch_uid=f"live_ready_{label}_saving")
        signals.post_save.connect(device_saved, sender=model, dispatch_uid=f"live_ready_{label}_saved")
        signals.post_delete.connect(device_deleted, sender=model, dispatch_uid=f"live_ready_{label}_deleted")
