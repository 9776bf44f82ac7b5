"""Organisations (merchants): creation, profile, review, approval and suspension, and live mode."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from merchants.models import ApiKey, Membership, Merchant, User
from merchants.services.audit import Actor, audit
from merchants.services.errors import MerchantError
from merchants.services.keys import create_api_key

# --- organisations -------------------------------------------------------------------------


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
