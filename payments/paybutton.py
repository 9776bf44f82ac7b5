"""The pay button's allowed origins: the merchant setting (Merchant.allowed_origins) and its rules.

Shared by the dashboard (where the merchant edits the list) and the checkout side (the button's
endpoint and the hosted page's framing rules, payments.checkout.buttons and .guards). An origin is
a scheme and a host ('https://shop.example.org'): https always; plain http only for localhost, and
only in test mode.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from merchants.models import Merchant
from merchants.services.audit import Actor
from merchants.services.organisations import update_profile

MAX_ORIGINS = 20


def is_loopback_origin(origin: str) -> bool:
    host = urlsplit(origin).hostname or ""
    return host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost")


def origin_usable(origin: str, is_live: bool) -> bool:
    """https origins always; http only for localhost, and only in test mode."""
    scheme = urlsplit(origin).scheme
    if scheme == "https":
        return True
    return scheme == "http" and not is_live and is_loopback_origin(origin)


def clean_origin(text: str) -> str:
    """'https://Shop.example.org/' -> 'https://shop.example.org'; raises ValidationError otherwise."""
    raw = (text or "").strip()
    parts = urlsplit(raw.rstrip("/"))
    try:
        port = parts.port
    except ValueError:
        port = -1
    if (
        parts.scheme not in ("https", "http")
        or not parts.hostname
        or port == -1
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
        or "*" in raw
    ):
        raise ValidationError(
            _("%(origin)s is not an origin: write the scheme and host only, e.g. https://shop.example.org."),
            params={"origin": raw[:100]},
        )
    origin = f"{parts.scheme}://{parts.hostname.lower()}"
    if port and port != {"https": 443, "http": 80}[parts.scheme]:
        origin += f":{port}"
    if parts.scheme == "http" and not is_loopback_origin(origin):
        raise ValidationError(
            _("%(origin)s: use https (plain http is accepted only for localhost, in test mode)."),
            params={"origin": raw[:100]},
        )
    return origin


def clean_origins(lines: list[str]) -> list[str]:
    origins: list[str] = []
    errors = []
    for line in lines:
        if not line.strip():
            continue
        try:
            origin = clean_origin(line)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_ORIGINS:
        errors.append(_("At most %(count)d origins.") % {"count": MAX_ORIGINS})
    if errors:
        raise ValidationError(errors)
    return origins


def update_allowed_origins(merchant: Merchant, actor: Actor, origins: list[str]) -> Merchant:
    """The merchant's settings service does the write and the audit entry."""
    return update_profile(merchant, actor, {"allowed_origins": clean_origins(origins)})
