"""Passwords for e-commerce plugins, as Google's and Apple's "app passwords": made by a user with
two-factor authentication on the account security page, each for one plugin, and accepted only in
place of the account password *and* the one-time code on `POST /v1/keys` (the PHP SDK's
getKeysByLogin sends an email and a password, nothing else). They never log in to the dashboard.

A plugin password is 16 random lowercase letters and digits (82 bits), shown once in four groups
of four ("abcd-efgh-ijkl-mnop"); spaces, dashes and case do not matter when it is typed. Only its
hash is stored, with Django's password hashers. Creating and revoking one is audited.
"""

from __future__ import annotations

import re
import secrets
import string

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from django_otp import user_has_device

from merchants.models import Membership, PluginPassword, User
from merchants.services.accounts import has_two_factor
from merchants.services.audit import Actor, audit
from merchants.services.errors import MerchantError

ALPHABET = string.ascii_lowercase + string.digits
GROUPS = 4
GROUP_LENGTH = 4
SECRET_LENGTH = GROUPS * GROUP_LENGTH  # 16 characters of 36: 82.7 bits
MAX_ACTIVE = 10  # per user; each login with a plugin-password-shaped password checks each hash
NAME_MAX_LENGTH = 60
_SEPARATORS = re.compile(r"[\s-]")
_SHAPE = re.compile(rf"[a-z0-9]{{{SECRET_LENGTH}}}")
_ID = re.compile(r"[0-9]{1,18}")


def normalise(raw: str) -> str:
    return _SEPARATORS.sub("", raw).lower()


def looks_like_plugin_password(raw: str) -> bool:
    """Whether `raw` has the shape of a plugin password (an account password may have it too)."""
    return len(raw) <= 64 and bool(_SHAPE.fullmatch(normalise(raw)))


def grouped(secret: str) -> str:
    return "-".join(secret[i : i + GROUP_LENGTH] for i in range(0, len(secret), GROUP_LENGTH))


def active_plugin_passwords(user: User) -> list[PluginPassword]:
    return list(PluginPassword.objects.active().filter(user=user))


def _audit(user: User, actor: Actor, action: str, plugin_password: PluginPassword) -> None:
    """One entry in the audit log of each organisation of the user (one without if none), as the
    other security changes of an account (merchants.services.accounts.audit_for_user)."""
    memberships = Membership.objects.filter(user=user).select_related("merchant").order_by("created_at")
    for merchant in [membership.merchant for membership in memberships] or [None]:
        audit(merchant, actor, action, obj_type="user", obj_id=user.pk, plugin_password=plugin_password.name)


@sensitive_variables("secret")
def create_plugin_password(user: User, name: str, actor: Actor) -> tuple[PluginPassword, str]:
    """A new plugin password: (the row, the password in four groups, to be shown once).

    The caller has checked that the user just proved who they are (the account password on the form).
    """
    name = " ".join(name.split())[:NAME_MAX_LENGTH]
    if not name:
        raise MerchantError(_("Enter a name for this password, such as the shop or the plugin it is for."))
    if not has_two_factor(user):
        raise MerchantError(
            _("Turn two-factor authentication on first: without it, plugins log in with your account password.")
        )
    secret = "".join(secrets.choice(ALPHABET) for _i in range(SECRET_LENGTH))
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # two forms at once never pass the limit
        if PluginPassword.objects.active().filter(user=user).count() >= MAX_ACTIVE:
            raise MerchantError(
                _("You already have %(count)d plugin passwords: revoke one you no longer use first.")
                % {"count": MAX_ACTIVE}
            )
        plugin_password = PluginPassword.objects.create(user=user, name=name, password_hash=make_password(secret))
        _audit(user, actor, "security.plugin_password_created", plugin_password)
    return plugin_password, grouped(secret)


def revoke_plugin_password(user: User, plugin_password_id: str, actor: Actor) -> PluginPassword | None:
    """Revoke one of the user's own plugin passwords (`plugin_password_id` as posted by a form);
    None if the user has no such active one."""
    if not _ID.fullmatch(str(plugin_password_id)):
        return None
    with transaction.atomic():
        plugin_password = (
            PluginPassword.objects.active().select_for_update().filter(user=user, pk=plugin_password_id).first()
        )
        if plugin_password is None:
            return None
        plugin_password.revoked_at = timezone.now()
        plugin_password.save(update_fields=["revoked_at"])
        _audit(user, actor, "security.plugin_password_revoked", plugin_password)
    return plugin_password


def revoke_all_plugin_passwords(user: User, actor: Actor) -> int:
    """Revoke every plugin password of the user (when two-factor authentication is turned off)."""
    with transaction.atomic():
        revoked = list(PluginPassword.objects.active().select_for_update().filter(user=user))
        for plugin_password in revoked:
            plugin_password.revoked_at = timezone.now()
            plugin_password.save(update_fields=["revoked_at"])
            _audit(user, actor, "security.plugin_password_revoked", plugin_password)
    return len(revoked)


@sensitive_variables("raw", "secret")
def authenticate(email: str, raw: str) -> User | None:
    """The active user with this email whose active plugin password `raw` is, else None.

    Only for a user with two-factor authentication: a plugin password stands for the password and
    the code together. Records the last use. Not a login: the caller checks the lockout first and,
    on None, goes on with django.contrib.auth.authenticate, which counts the failure (django-axes).
    One hash is computed even when the email has no plugin password, so that the time taken does
    not tell which addresses have one.
    """
    secret = normalise(raw)
    user = User.objects.filter(email=email.strip().lower(), is_active=True).first()
    candidates = []
    if user is not None and user_has_device(user, confirmed=True):
        candidates = active_plugin_passwords(user)
    if not candidates:
        make_password(secret)
        return None
    for candidate in candidates:

        def upgrade(new_raw, candidate=candidate):  # a stronger hasher configured since: store its hash
            PluginPassword.objects.filter(pk=candidate.pk).update(password_hash=make_password(new_raw))

        if check_password(secret, candidate.password_hash, setter=upgrade):
            PluginPassword.objects.filter(pk=candidate.pk).update(last_used_at=timezone.now())
            return user
    return None
