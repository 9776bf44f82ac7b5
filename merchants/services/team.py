"""The team of an organisation: invitations, roles and removal, keeping at least one owner."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from merchants.models import Invitation, Membership, Merchant, User, hash_token
from merchants.services.audit import Actor, audit
from merchants.services.errors import MerchantError


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
