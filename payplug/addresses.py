"""Which outside addresses a setting or a connector may name: https:// anything, http:// only to a
loopback host (a local stand-in of a provider's API), never credentials, a query or a fragment.

In the core package, so that the settings check them at startup and the acquirer connectors
(payments.acquirers.network) when they are built, with one definition.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_base_url(url: str, name: str, error: type[Exception] = ValueError) -> str:
    """`url` without its trailing slash, or `error` naming `name` (the URL itself stays out of the
    message: it could carry credentials)."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise error(f"{name} must be an https:// URL.")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise error(f"{name} must not hold credentials, a query or a fragment.")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise error(f"{name} must use https (plain http is accepted for a loopback host only).")
    return url.rstrip("/")
