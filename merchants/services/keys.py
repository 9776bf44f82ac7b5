"""API keys: creating, rolling and revoking them, and finding the key of an API request."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from merchants import keycache
from merchants.models import ApiKey, Merchant
from merchants.services.audit import Actor, audit
from merchants.services.errors import MerchantError
from payplug.ids import random_base62
from payplug.prepared import PreparedSelect

KEY_RANDOM_LENGTH = 32
CACHE_LAST_USED_SECONDS = 60


def _key_prefix(kind: str, is_live: bool) -> str:
    return ("sk_" if kind == ApiKey.Kind.SECRET else "pk_") + ("live_" if is_live else "test_")


def create_api_key(
    merchant: Merchant, *, is_live: bool, kind: str, actor: Actor, name: str = "", expires_at=None
) -> tuple[ApiKey, str]:
    """Make a key; returns (row, raw key). The raw secret key is never stored and shown once."""
    if is_live and kind == ApiKey.Kind.SECRET and not merchant.live_enabled:
        raise MerchantError(_("Live mode is not enabled for this account yet."))
    raw = _key_prefix(kind, is_live) + random_base62(KEY_RANDOM_LENGTH)
    key = ApiKey.objects.create(
        merchant=merchant,
        is_live=is_live,
        kind=kind,
        prefix=raw[: len(_key_prefix(kind, is_live)) + 4],
        key_hash=ApiKey.hash_key(raw),
        publishable_value=raw if kind == ApiKey.Kind.PUBLISHABLE else "",
        name=name,
        created_by=actor.user,
        expires_at=expires_at,
    )
    audit(merchant, actor, "api_key.created", obj_type="api_key", obj_id=key.prefix, is_live=is_live, kind=kind)
    return key, raw


def roll_api_key(key: ApiKey, actor: Actor, grace_hours: int | None = None) -> tuple[ApiKey, str]:
    """Replace a key; the old one keeps working for `grace_hours` (0 = revoke at once)."""
    grace = settings.API_KEY_ROLL_GRACE_HOURS if grace_hours is None else grace_hours
    if not 0 <= grace <= 7 * 24:
        raise MerchantError(_("The grace period must be between 0 and 168 hours."))
    with transaction.atomic():
        old = ApiKey.objects.select_for_update().get(pk=key.pk)
        if not old.is_active:
            raise MerchantError(_("This key is no longer active."))
        now = timezone.now()
        if grace:
            # Rolling a key already in its grace period never extends the old key's life.
            new_expiry = now + timedelta(hours=grace)
            old.expires_at = min(old.expires_at, new_expiry) if old.expires_at else new_expiry
        else:
            old.revoked_at = now
        old.save(update_fields=["expires_at", "revoked_at"])
        new_key, raw = create_api_key(old.merchant, is_live=old.is_live, kind=old.kind, actor=actor, name=old.name)
        audit(
            old.merchant,
            actor,
            "api_key.rolled",
            obj_type="api_key",
            obj_id=old.prefix,
            is_live=old.is_live,
            replaced_by=new_key.prefix,
            grace_hours=grace,
        )
    return new_key, raw


def revoke_api_key(key: ApiKey, actor: Actor) -> ApiKey:
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update().get(pk=key.pk)
        if locked.revoked_at:
            return locked
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit(
            locked.merchant, actor, "api_key.revoked", obj_type="api_key", obj_id=locked.prefix, is_live=locked.is_live
        )
    return locked


_KEY_BY_HASH = PreparedSelect(
    ApiKey, lambda key_hash: ApiKey.objects.select_related("merchant").filter(key_hash=key_hash)
)


def find_api_key(raw: str, *, auth_version=keycache.UNKNOWN) -> ApiKey | None:
    """The usable key for a raw value, or None. Records last use at most once a minute.

    With `auth_version`, the authentication version read from Redis before this call
    (merchants.authentication reads it with the rate limit), a key this process loaded under that
    same version is used without a query (merchants.keycache); the caller gets its own copy.
    """
    if not raw or len(raw) > 120:
        return None
    key_hash = ApiKey.hash_key(raw)
    key = keycache.get(key_hash, auth_version)
    if key is None:
        # Every API request that misses the cache comes through here, so the query is compiled once
        # (payplug.prepared): key_hash is unique, so no ORDER BY, and ApiKey.usable() is checked on
        # the row rather than compiled into the query (bench/README.md).
        key = _KEY_BY_HASH.first(key_hash)
        if key is None:
            return None
        keycache.put(key_hash, key, auth_version)
    now = timezone.now()
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None  # the same rule as ApiKey.usable()
    if key.last_used_at is None or now - key.last_used_at > timedelta(seconds=CACHE_LAST_USED_SECONDS):
        # Compare-and-set: one write a minute per key, whatever the request rate. The cached key
        # remembers it too, so other requests of this process do not try again.
        ApiKey.objects.filter(pk=key.pk, last_used_at=key.last_used_at).update(last_used_at=now)
        key.last_used_at = now
    return key if auth_version is keycache.UNKNOWN else keycache.copy_of(key)


PLUGIN_KEY_NAME = "plugin"
PLUGIN_KEYS_KEPT = 3


def create_plugin_key(merchant: Merchant, *, is_live: bool, user, actor: Actor) -> str:
    """A new secret key for a CMS plugin's email-and-password login (`POST /v1/keys`); returns it raw.

    Each login makes a new key named "plugin" for (merchant, mode, user): secret keys are stored
    hashed, so an existing one cannot be shown again. At most PLUGIN_KEYS_KEPT of them stay active
    per user and mode; older ones are revoked (audited), so repeated logins never pile keys up,
    while a plugin that logs in twice during its setup (the PHP SDK's getPermissionsByLogin does)
    keeps the keys of both calls working.
    """
    with transaction.atomic():
        Merchant.objects.select_for_update().filter(pk=merchant.pk).first()  # one login at a time per merchant
        key, raw = create_api_key(merchant, is_live=is_live, kind=ApiKey.Kind.SECRET, actor=actor, name=PLUGIN_KEY_NAME)
        previous = (
            ApiKey.objects.usable()
            .filter(merchant=merchant, is_live=is_live, kind=ApiKey.Kind.SECRET, name=PLUGIN_KEY_NAME, created_by=user)
            .exclude(pk=key.pk)
            .order_by("-created_at", "-pk")
        )
        for old in previous[PLUGIN_KEYS_KEPT - 1 :]:
            revoke_api_key(old, actor)
    return raw
