"""The audit log: who did something and from where (Actor), one entry per change (audit), and
an entry as people read it (describe)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from merchants.models import ApiKey, AuditLog, Membership, Merchant, User
from payplug.client import client_ip


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


def save_changes(locked, actor: Actor, action: str, *, obj_type: str, editable, fields: dict) -> list[str]:
    """Write onto `locked` (a tenant row, locked by the caller's transaction) the `editable` fields
    of `fields` that differ, save it, and audit which ones changed; nothing when none did."""
    changed = sorted(name for name in editable if name in fields and getattr(locked, name) != fields[name])
    if changed:
        for name in changed:
            setattr(locked, name, fields[name])
        locked.save()
        audit(
            locked.merchant,
            actor,
            action,
            obj_type=obj_type,
            obj_id=locked.public_id,
            is_live=locked.is_live,
            fields=changed,
        )
    return changed


# --- the audit log as people read it ---------------------------------------------------------------

ACTIONS = {
    "merchant.created": _("Organisation created"),
    "merchant.submitted_for_review": _("Account submitted for review"),
    "merchant.approved": _("Account approved"),
    "merchant.suspended": _("Account suspended"),
    "settings.profile_updated": _("Organisation profile changed"),
    "api_key.created": _("API key created"),
    "api_key.rolled": _("API key rolled"),
    "api_key.revoked": _("API key revoked"),
    "team.invited": _("Team member invited"),
    "team.joined": _("Invitation accepted"),
    "team.invitation_revoked": _("Invitation revoked"),
    "team.role_changed": _("Role changed"),
    "team.member_removed": _("Team member removed"),
    "payment_link.created": _("Payment link created"),
    "installment_plan.aborted": _("Installment plan aborted"),
    "payment_link.updated": _("Payment link changed"),
    "payment_link.activated": _("Payment link activated"),
    "payment_link.deactivated": _("Payment link deactivated"),
    "security.password_changed": _("Password changed"),
    "security.password_reset": _("Password reset"),
    "security.two_factor_enabled": _("Two-factor authentication turned on"),
    "security.two_factor_disabled": _("Two-factor authentication turned off"),
    "security.backup_codes_replaced": _("Backup codes replaced"),
    "security.plugin_password_created": _("Plugin password created"),
    "security.plugin_password_revoked": _("Plugin password revoked"),
}
OBJECT_TYPES = {
    "merchant": _("Organisation"),
    "user": _("User"),
    "api_key": _("API key"),
    "invitation": _("Invitation"),
    "membership": _("Team member"),
    "payment_link": _("Payment link"),
    "payment": _("Payment"),
    "refund": _("Refund"),
    "webhook_endpoint": _("Webhook endpoint"),
}
# Names of the data an entry carries, and of the fields a change lists.
FIELDS = {
    "email": _("Email"),
    "role": _("Role"),
    "kind": _("Kind"),
    "fields": _("Changed"),
    "changes": _("Changes"),
    "replaced_by": _("Replaced by"),
    "grace_hours": _("Grace period (hours)"),
    "amount": _("Amount"),
    "min_amount": _("Minimum amount"),
    "max_amount": _("Maximum amount"),
    "description": _("Description"),
    "ask_quantity": _("Ask for a quantity"),
    "max_quantity": _("Maximum quantity"),
    "time_zone": _("Time zone"),
    "allowed_origins": _("Allowed websites"),
    "blocked_countries": _("Blocked countries"),
    "plugin_password": _("Plugin password"),
}
_ROLE_KEYS = {"role", "previous"}
_NOTHING = "—"


def _field_label(name: str) -> str:
    """A field's name in the active language: ours, else the Merchant model's, else readable."""
    if name in FIELDS:
        return str(FIELDS[name])
    try:
        return capfirst(str(Merchant._meta.get_field(name).verbose_name))
    except FieldDoesNotExist:
        return capfirst(name.replace("_", " ").replace(".", " "))


def _value(value, key: str = "") -> str:
    """A stored value as text: lists joined, dicts as "name: value", choices by their label."""
    if value is None or value == "" or value == [] or value == {}:
        return _NOTHING
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if key in _ROLE_KEYS and isinstance(value, str):
        return str(Membership.Role(value).label) if value in Membership.Role.values else value
    if key == "kind" and isinstance(value, str) and value in ApiKey.Kind.values:
        return str(ApiKey.Kind(value).label)
    if key == "fields" and isinstance(value, list | tuple):
        return ", ".join(_field_label(str(name)) for name in value)
    if isinstance(value, list | tuple):
        return ", ".join(_value(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{_field_label(str(name))}: {_value(item, str(name))}" for name, item in value.items())
    return str(value)


def _change(old, new, key: str = "") -> str:
    return f"{_value(old, key)} → {_value(new, key)}"


def _is_pair(value) -> bool:
    if isinstance(value, dict):
        return set(value) in ({"old", "new"}, {"before", "after"}, {"from", "to"})
    return isinstance(value, list | tuple) and len(value) == 2


def _pair(value) -> tuple:
    if isinstance(value, dict):
        for old, new in (("old", "new"), ("before", "after"), ("from", "to")):
            if old in value:
                return value[old], value[new]
    return value[0], value[1]


def describe(entry: AuditLog) -> dict:
    """An audit entry as people read it: {"action", "object", "details": [(label, text), ...]},
    in the active language. "field: old → new" for changes, never Python lists or dicts."""
    data = dict(entry.data or {})
    details: list[tuple[str, str]] = []
    if "previous" in data and "role" in data:
        details.append((_field_label("role"), _change(data.pop("previous"), data.pop("role"), "role")))
    changes = data.pop("changes", None)
    if isinstance(changes, dict):
        for name, value in changes.items():
            if _is_pair(value):
                details.append((_field_label(name), _change(*_pair(value), key=name)))
            else:
                details.append((_field_label(name), _value(value, name)))
    elif changes is not None:
        data["changes"] = changes
    for name, value in data.items():
        details.append((_field_label(name), _value(value, name)))
    action = ACTIONS.get(entry.action)
    return {
        "action": str(action) if action else capfirst(entry.action.replace(".", " ").replace("_", " ")),
        "object": str(OBJECT_TYPES.get(entry.object_type, "")) or capfirst(entry.object_type.replace("_", " ")),
        "details": details,
    }
