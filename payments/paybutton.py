"""The pay button's merchant settings: its allowed origins and the builder's saved options.

Allowed origins (Merchant.allowed_origins) are shared by the dashboard (where the merchant edits
the list) and the checkout side (the button's endpoint and the hosted page's framing rules,
payments.checkout.buttons and .guards). An origin is a scheme and a host
('https://shop.example.org'): https always; plain http only for localhost, and only in test mode.

The snippet builder's options (amount, label, description, language, whether to ask for the
donor's name and email, how often: one-off, monthly, yearly) are kept per merchant and mode
(PayButtonSettings), so that saving the allowed websites, or coming back to the page, shows the
same button again (issue 12, finding 15).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from merchants.models import Merchant
from merchants.services.audit import Actor, audit
from merchants.services.organisations import update_profile
from payments.models import PayButtonSettings, Subscription

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


# --- the builder's saved options ------------------------------------------------------------------

# Each option with its value when nothing was saved yet (amounts in cents): a €10 button that asks
# for the email address, optionally, so that a receipt can be sent.
DEFAULT_SETTINGS = {
    "amount_type": "fixed",
    "amount": 1000,
    "min_amount": None,
    "max_amount": None,
    "label": "",
    "description": "",
    "language": "",
    "collect_name": PayButtonSettings.Collect.OFF.value,
    "collect_email": PayButtonSettings.Collect.OPTIONAL.value,
    "frequencies": ["once"],
}
COLLECT_CHOICES = tuple(PayButtonSettings.Collect.values)
# payments.links.FREQUENCIES (that module sits above this one): "once", then the subscription intervals.
FREQUENCIES = ("once", *Subscription.Interval.values)


def button_settings(merchant: Merchant, is_live: bool) -> dict:
    """The saved options of this merchant's button in this mode, or the defaults."""
    row = PayButtonSettings.objects.for_tenant(merchant, is_live).first()
    if row is None:
        return _normalized({})
    return _normalized({name: getattr(row, name) for name in DEFAULT_SETTINGS})


def _normalized(options: dict) -> dict:
    values = {name: options.get(name, default) for name, default in DEFAULT_SETTINGS.items()}
    values["amount_type"] = "free" if values["amount_type"] == "free" else "fixed"
    if values["amount_type"] == "fixed":
        values["min_amount"] = values["max_amount"] = None
        values["amount"] = values["amount"] or DEFAULT_SETTINGS["amount"]
    else:
        values["amount"] = None
    for name in ("label", "description", "language"):
        values[name] = (values[name] or "").strip()
    for name in ("collect_name", "collect_email"):
        if values[name] not in COLLECT_CHOICES:
            values[name] = DEFAULT_SETTINGS[name]
    given = values["frequencies"] if isinstance(values["frequencies"], list) else []
    values["frequencies"] = [value for value in FREQUENCIES if value in given] or list(DEFAULT_SETTINGS["frequencies"])
    return values


def save_button_settings(merchant: Merchant, is_live: bool, actor: Actor, options: dict) -> dict:
    """Keep the builder's options (cleaned by the dashboard's form) for this merchant and mode."""
    values = _normalized(options)
    with transaction.atomic():
        row, created = PayButtonSettings.objects.select_for_update().get_or_create(
            merchant=merchant, is_live=is_live, defaults=values
        )
        changed = sorted(name for name, value in values.items() if getattr(row, name) != value)
        if created:
            changed = sorted(values)
        if changed:
            for name in changed:
                setattr(row, name, values[name])
            row.updated_at = timezone.now()
            row.save()
            audit(merchant, actor, "pay_button.updated", obj_type="pay_button", is_live=is_live, fields=changed)
    return values
