"""Every state change of merchants, teams and keys. Views and commands call these."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from merchants import keycache
from merchants.models import ApiKey, AuditLog, Invitation, Membership, Merchant, User, hash_token
from payplug.client import client_ip
from payplug.ids import random_base62
from payplug.prepared import PreparedSelect

KEY_RANDOM_LENGTH = 32
CACHE_LAST_USED_SECONDS = 60


class MerchantError(Exception):
    """A refused change; the message is safe to show to the user."""


# --- audit -------------------------------------------------------------------------------


@dataclass
class Actor:
    """Who did something and from where: a dashboard user, an API key, staff or the system."""

    user: User | None = None
    label: str = ""
    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request, user: User | None = None) -> Actor:
        """The request's user (or `user`, acting before being logged in) from the request's address."""
        if user is None:
            user = request.user if getattr(request, "user", None) and request.user.is_authenticated else None
        return cls(
            user=user,
            label=user.email if user else "",
            ip_address=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:255],
        )

    @classmethod
    def system(cls, label="system") -> Actor:
        return cls(label=label)


def audit(merchant, actor: Actor, action: str, *, obj_type="", obj_id="", is_live=None, **data) -> AuditLog:
    return AuditLog.objects.create(
        merchant=merchant,
        actor=actor.user,
        actor_label=actor.label or (actor.user.email if actor.user else ""),
        action=action,
        is_live=is_live,
        object_type=obj_type,
        object_id=str(obj_id),
        data=data,
        ip_address=actor.ip_address,
        user_agent=actor.user_agent,
    )


# --- merchants ---------------------------------------------------------------------------


def create_merchant(owner: User, name: str, actor: Actor | None = None) -> Merchant:
    """A new organisation with its owner; test mode works at once (test keys are created)."""
    actor = actor or Actor(user=owner, label=owner.email)
    with transaction.atomic():
        merchant = Merchant.objects.create(name=name.strip(), brand_name=name.strip()[:60])
        Membership.objects.create(user=owner, merchant=merchant, role=Membership.Role.OWNER)
        create_api_key(merchant, is_live=False, kind=ApiKey.Kind.PUBLISHABLE, actor=actor)
        audit(merchant, actor, "merchant.created", obj_type="merchant", obj_id=merchant.public_id)
    return merchant


REVIEWED_FIELDS = {"legal_form", "country", "registration_number", "vat_number", "iban", "name"}


def update_profile(merchant: Merchant, actor: Actor, changes: dict) -> Merchant:
    with transaction.atomic():
        locked = Merchant.objects.select_for_update().get(pk=merchant.pk)
        changed = {}
        for field, value in changes.items():
            if getattr(locked, field) != value:
                changed[field] = value
                setattr(locked, field, value)
        if not changed:
            return locked
        if locked.status == Merchant.Status.APPROVED and changed.keys() & REVIEWED_FIELDS:
            # Who gets paid, and who the merchant is, were what staff approved: review again.
            locked.status = Merchant.Status.PENDING_REVIEW
            locked.approved_at = None
        locked.save()
        audit(
            locked,
            actor,
            "settings.profile_updated",
            obj_type="merchant",
            obj_id=locked.public_id,
            fields=sorted(changed),
        )
    return locked


def submit_for_review(merchant: Merchant, actor: Actor) -> Merchant:
    with transaction.atomic():
        locked = Merchant.objects.select_for_update().get(pk=merchant.pk)
        if locked.status != Merchant.Status.ONBOARDING:
            return locked
        missing = locked.missing_profile_fields()
        if missing:
            raise MerchantError(_("The profile is incomplete: %(fields)s") % {"fields": ", ".join(missing)})
        locked.status = Merchant.Status.PENDING_REVIEW
        locked.save(update_fields=["status", "updated_at"])
        audit(locked, actor, "merchant.submitted_for_review", obj_type="merchant", obj_id=locked.public_id)
    return locked


def approve_merchant(merchant: Merchant, staff: User, actor: Actor | None = None) -> Merchant:
    """Platform staff approve a merchant for live mode (Django admin action)."""
    actor = actor or Actor(user=staff, label=f"staff {staff.email}")
    with transaction.atomic():
        locked = Merchant.objects.select_for_update().get(pk=merchant.pk)
        if locked.status == Merchant.Status.APPROVED:
            return locked
        missing = locked.missing_profile_fields()
        if missing:
            raise MerchantError(f"{locked.name}: the profile is incomplete ({', '.join(missing)}).")
        locked.status = Merchant.Status.APPROVED
        locked.approved_at = timezone.now()
        locked.approved_by = staff
        locked.save(update_fields=["status", "approved_at", "approved_by", "updated_at"])
        if not locked.api_keys.filter(is_live=True, kind=ApiKey.Kind.PUBLISHABLE).usable().exists():
            create_api_key(locked, is_live=True, kind=ApiKey.Kind.PUBLISHABLE, actor=actor)
        audit(locked, actor, "merchant.approved", obj_type="merchant", obj_id=locked.public_id)
    return locked


def suspend_merchant(merchant: Merchant, staff: User) -> Merchant:
    with transaction.atomic():
        locked = Merchant.objects.select_for_update().get(pk=merchant.pk)
        locked.status = Merchant.Status.SUSPENDED
        locked.save(update_fields=["status", "updated_at"])
        audit(
            locked,
            Actor(user=staff, label=f"staff {staff.email}"),
            "merchant.suspended",
            obj_type="merchant",
            obj_id=locked.public_id,
        )
    return locked


# --- live mode -------------------------------------------------------------------------------


def refresh_live_ready(merchant_ids) -> None:
    """Recompute and store Merchant.live_ready (Merchant.live_mode_rule_holds) for these merchants.

    Merchant.save() recomputes it for changes of the row itself; merchants.signals calls this when
    something else the rule reads changes: a membership, or a second factor of a member. Each
    merchant row is locked first, so that this and a concurrent approval or profile change (which
    lock it too) see each other's writes instead of storing a stale answer.
    """
    ids = sorted({pk for pk in merchant_ids if pk is not None})
    if not ids:
        return
    with transaction.atomic():
        for merchant in Merchant.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
            ready = merchant.live_mode_rule_holds()
            if ready != merchant.live_ready:
                Merchant.objects.filter(pk=merchant.pk).update(live_ready=ready)


def refresh_live_ready_for_users(user_ids) -> None:
    """Recompute live mode of every organisation where one of these users is an owner or admin."""
    ids = {pk for pk in user_ids if pk is not None}
    if not ids:
        return
    leading = Membership.objects.filter(user_id__in=ids, role__in=[Membership.Role.OWNER, Membership.Role.ADMIN])
    refresh_live_ready(leading.values_list("merchant_id", flat=True))


# --- API keys ----------------------------------------------------------------------------


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


# --- team ----------------------------------------------------------------------------------


def invite_member(merchant: Merchant, email: str, role: str, actor: Actor) -> tuple[Invitation, str]:
    email = email.strip().lower()
    if Membership.objects.filter(merchant=merchant, user__email=email).exists():
        raise MerchantError(_("This person is already a member of the team."))
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        pending_owner_invite = Invitation.objects.filter(
            merchant=merchant,
            email=email,
            role=Membership.Role.OWNER,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
        ).exists()
        inviter_role = (
            Membership.objects.filter(merchant=merchant, user=actor.user).values_list("role", flat=True).first()
            if actor.user
            else Membership.Role.OWNER
        )
        if (role == Membership.Role.OWNER or pending_owner_invite) and inviter_role != Membership.Role.OWNER:
            raise MerchantError(_("Only an owner can invite an owner or replace an owner's invitation."))
        Invitation.objects.filter(
            merchant=merchant, email=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        invitation = Invitation.objects.create(
            merchant=merchant,
            email=email,
            role=role,
            token_hash=hash_token(token),
            invited_by=actor.user,
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
        )
        audit(merchant, actor, "team.invited", obj_type="invitation", obj_id=invitation.pk, email=email, role=role)
    return invitation, token


def find_invitation(token: str) -> Invitation | None:
    invitation = Invitation.objects.select_related("merchant").filter(token_hash=hash_token(token)).first()
    return invitation if invitation and invitation.is_pending else None


def accept_invitation(invitation: Invitation, user: User, actor: Actor) -> Membership:
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not locked.is_pending:
            raise MerchantError(_("This invitation is no longer valid."))
        if locked.email.lower() != user.email.lower():
            raise MerchantError(_("This invitation was sent to another email address."))
        membership, _created = Membership.objects.get_or_create(
            user=user, merchant=locked.merchant, defaults={"role": locked.role}
        )
        locked.accepted_at = timezone.now()
        locked.save(update_fields=["accepted_at"])
        audit(locked.merchant, actor, "team.joined", obj_type="membership", obj_id=membership.pk, role=membership.role)
    return membership


def revoke_invitation(invitation: Invitation, actor: Actor) -> None:
    with transaction.atomic():
        updated = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if updated:
            audit(
                invitation.merchant,
                actor,
                "team.invitation_revoked",
                obj_type="invitation",
                obj_id=invitation.pk,
                email=invitation.email,
            )


def _check_owner_rule(locked: Membership, actor: Actor, new_role: str | None = None) -> None:
    """Only owners change, remove or create owners (checked under the team's lock)."""
    if actor.user is None or (actor.user.pk == locked.user_id and new_role is None):
        return  # the system, or a member leaving
    actor_role = (
        Membership.objects.filter(merchant_id=locked.merchant_id, user=actor.user)
        .values_list("role", flat=True)
        .first()
    )
    touches_owner = locked.role == Membership.Role.OWNER or new_role == Membership.Role.OWNER
    if touches_owner and actor_role != Membership.Role.OWNER:
        raise MerchantError(_("Only an owner can change or remove an owner."))


def _owners_left(merchant: Merchant, excluding: Membership) -> int:
    return merchant.memberships.filter(role=Membership.Role.OWNER).exclude(pk=excluding.pk).count()


def change_role(membership: Membership, role: str, actor: Actor) -> Membership:
    with transaction.atomic():
        # Lock the merchant's memberships so that two admins cannot demote the last two owners at once.
        list(Membership.objects.select_for_update().filter(merchant_id=membership.merchant_id).order_by("pk"))
        locked = Membership.objects.get(pk=membership.pk)
        if locked.role == role:
            return locked
        _check_owner_rule(locked, actor, role)
        if locked.role == Membership.Role.OWNER and not _owners_left(locked.merchant, locked):
            raise MerchantError(_("An organisation needs at least one owner."))
        previous = locked.role
        locked.role = role
        locked.save(update_fields=["role"])
        audit(
            locked.merchant,
            actor,
            "team.role_changed",
            obj_type="membership",
            obj_id=locked.pk,
            email=locked.user.email,
            previous=previous,
            role=role,
        )
    return locked


def remove_member(membership: Membership, actor: Actor) -> None:
    with transaction.atomic():
        list(Membership.objects.select_for_update().filter(merchant_id=membership.merchant_id).order_by("pk"))
        locked = Membership.objects.select_related("user", "merchant").get(pk=membership.pk)
        _check_owner_rule(locked, actor)
        if locked.role == Membership.Role.OWNER and not _owners_left(locked.merchant, locked):
            raise MerchantError(_("An organisation needs at least one owner."))
        audit(
            locked.merchant,
            actor,
            "team.member_removed",
            obj_type="membership",
            obj_id=locked.pk,
            email=locked.user.email,
            role=locked.role,
        )
        locked.delete()
