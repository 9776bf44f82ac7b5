"""The merchant's allow and block lists: canonical values and new entries."""

from __future__ import annotations

import ipaddress

from django.utils.translation import gettext as _

from fraud.models import ListEntry


def normalise_list_value(kind: str, value: str) -> str:
    """Canonical form of a list value; raises ValueError with a readable message."""
    value = (value or "").strip()
    if not value:
        raise ValueError(_("Enter a value."))
    if kind == ListEntry.Kind.EMAIL:
        if "@" not in value:
            raise ValueError(_("Enter an email address."))
        return value.lower()
    if kind == ListEntry.Kind.IP:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError(_("Enter an IPv4 or IPv6 address.")) from None
    if kind == ListEntry.Kind.COUNTRY:
        if len(value) != 2 or not value.isalpha():
            raise ValueError(_("Enter a two-letter country code (ISO 3166-1), e.g. FR."))
        return value.upper()
    if kind == ListEntry.Kind.BIN:
        if not value.isdigit() or not 6 <= len(value) <= 8:
            raise ValueError(_("Enter the first 6 to 8 digits of the card number."))
        return value
    if kind == ListEntry.Kind.CARD:
        if not all(c in "0123456789abcdef" for c in value.lower()) or len(value) < 16:
            raise ValueError(_("Enter a card fingerprint (shown on the payment's risk panel)."))
        return value.lower()
    raise ValueError(_("Unknown list kind."))


def add_list_entry(merchant, is_live: bool, list_name: str, kind: str, value: str, note: str = "", user=None):
    value = normalise_list_value(kind, value)
    entry, _ = ListEntry.objects.get_or_create(
        merchant=merchant,
        is_live=is_live,
        list=list_name,
        kind=kind,
        value=value,
        defaults={"note": note, "created_by": user if user is not None and user.is_authenticated else None},
    )
    return entry
