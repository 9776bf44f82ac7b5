"""Every state change of a user's own account: creating it, confirming its email, its language,
its password and its second factors. Views and commands call these; organisations, teams and
keys are in the other modules of merchants.services.

Security changes are written to the audit log of each organisation the user belongs to (or with
no organisation if there is none yet). Changing a second factor also updates live mode of the
organisations the user owns or administers (merchants.signals).
"""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.models import Invitation, Membership, User
from merchants.services.audit import Actor, audit

BACKUP_CODE_COUNT = 10


class CodeRefused(Exception):
    """The code did not confirm the device; `throttled` if the device refused to check it at all."""

    def __init__(self, throttled: bool = False):
        super().__init__("too many codes" if throttled else "invalid code")
        self.throttled = throttled


def audit_for_user(user: User, actor: Actor, action: str) -> None:
    """One entry in the audit log of each organisation the user belongs to (one without if none)."""
    memberships = Membership.objects.filter(user=user).select_related("merchant").order_by("created_at")
    merchants = [membership.merchant for membership in memberships] or [None]
    for merchant in merchants:
        audit(merchant, actor, action, obj_type="user", obj_id=user.pk)


# --- the account and its email -------------------------------------------------------------------


def sign_up(*, email: str, password: str, full_name: str, language: str, invitation: Invitation | None = None) -> User:
    """A new account. Raises IntegrityError if the address already has one, which is left as it is.

    The password is hashed either way, so that the time taken does not tell whether the address
    has an account (the view answers the same in both cases).
    """
    # Arriving from an invitation sent to this very address proves the mailbox: no second email.
    proven = invitation is not None and invitation.email.lower() == email
    if User.objects.filter(email=email).exists():
        make_password(password)
        raise IntegrityError("an account already exists with this email")
    with transaction.atomic():
        return User.objects.create_user(
            email=email,
            password=password,
            full_name=full_name,
            preferred_language=language,
            email_verified_at=timezone.now() if proven else None,
        )


def confirm_email(user: User) -> bool:
    """Mark the address as proven; False if it already was (the first confirmation keeps its time)."""
    # Compare-and-set: the first confirmation wins and keeps its timestamp.
    now = timezone.now()
    if User.objects.filter(pk=user.pk, email_verified_at__isnull=True).update(email_verified_at=now):
        user.email_verified_at = now
        return True
    return False


def set_preferred_language(user: User, code: str) -> None:
    """The language of the user's next logins and emails (a code of settings.LANGUAGES)."""
    if user.preferred_language != code:
        User.objects.filter(pk=user.pk).update(preferred_language=code)
        user.preferred_language = code


# --- password ------------------------------------------------------------------------------------


def change_password(user: User, new_password: str, actor: Actor) -> None:
    """Set a new password (already validated by the form); the caller keeps its session valid."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit_for_user(user, actor, "security.password_changed")


def password_reset_completed(user: User, actor: Actor) -> None:
    """After a password was set from a reset link: the link reached the mailbox, so the address
    is proven, and a login lockout no longer protects anything."""
    with transaction.atomic():
        confirm_email(user)
        axes_reset(username=user.email)
        audit_for_user(user, actor, "security.password_reset")


# --- second factor -------------------------------------------------------------------------------


def has_two_factor(user: User) -> bool:
    """Whether the user turned two-factor authentication on (a confirmed authenticator app)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def backup_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user).count()


def pending_totp_device(user: User) -> TOTPDevice:
    """The unconfirmed device being set up; the same one (same secret) until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def _new_backup_codes(user: User) -> list[str]:
    device = StaticDevice.objects.filter(user=user).order_by("pk").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name="backup codes", confirmed=True)
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _i in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def replace_backup_codes(user: User, actor: Actor) -> list[str]:
    """Fresh backup codes; the previous ones stop working. Returns them, to be shown once."""
    with transaction.atomic():
        codes = _new_backup_codes(user)
        audit_for_user(user, actor, "security.backup_codes_replaced")
    return codes


def enable_two_factor(user: User, code: str, actor: Actor) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending authenticator app with `code`: (the device, fresh backup codes).

    Raises CodeRefused if there is no pending device or the code is wrong or throttled. The
    caller marks its session as verified with the device (django_otp.login).
    """
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-pk").first()
        if device is None:
            refused = CodeRefused()
        elif not device.verify_is_allowed()[0]:
            refused = CodeRefused(throttled=True)
        elif not device.verify_token(code):
            # Raised once the transaction is committed: the device's throttle counts this failure.
            refused = CodeRefused()
        else:
            refused = None
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            codes = _new_backup_codes(user)
            audit_for_user(user, actor, "security.two_factor_enabled")
    if refused is not None:
        raise refused
    return device, codes


def disable_two_factor(user: User, actor: Actor) -> None:
    """Remove the authenticator app and the backup codes (the form checked the password)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit_for_user(user, actor, "security.two_factor_disabled")
