"""The audit log: who did something and from where (Actor), and one entry per change (audit)."""

from __future__ import annotations

from dataclasses import dataclass

from merchants.models import AuditLog, User
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
