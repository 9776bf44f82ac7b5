"""What every connector that speaks HTTP to its provider shares: which base URLs are allowed, and
what a `requests` failure says about whether the request could have reached the provider.

The second matters for money: a request that never left (no connection was ever established)
cannot have authorised anything, so the attempt may safely fail or go elsewhere; one that may
have left is UNKNOWN until an inquiry says what happened (payments.acquirers.base).
"""

from __future__ import annotations

import ipaddress
import ssl
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_base_url(url: str, name: str, error: type[Exception] = ValueError) -> str:
    """`url` without its trailing slash: https:// anything, http:// only to a loopback host (a
    local stand-in of the provider's API), never credentials, a query or a fragment. `name` says
    which setting in the message; the URL itself is left out (it could carry credentials)."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise error(f"{name} must be an https:// URL.")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise error(f"{name} must not hold credentials, a query or a fragment.")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise error(f"{name} must use https (plain http is accepted for a loopback host only).")
    return url.rstrip("/")


def causes(exc: BaseException):
    """The exception and what it wraps: requests puts urllib3's error in args, MaxRetryError in reason."""
    pending, seen = [exc], set()
    while pending:
        current = pending.pop()
        if id(current) in seen or len(seen) > 20:
            continue
        seen.add(id(current))
        yield current
        wrapped = [*current.args, getattr(current, "reason", None), current.__cause__]
        pending.extend(item for item in wrapped if isinstance(item, BaseException))


def never_sent(exc: BaseException) -> bool:
    """True when the request cannot have reached the provider: no connection was ever established."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError):
        return False
    for cause in causes(exc):
        # NewConnectionError (refused, DNS) is a ConnectTimeoutError; a certificate is checked
        # in the handshake, before any byte of the request.
        if isinstance(cause, ConnectTimeoutError | ssl.SSLCertVerificationError):
            return True
        if isinstance(cause, MaxRetryError) and isinstance(cause.reason, ConnectTimeoutError):
            return True
    return False


def describe(exc: BaseException) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, requests.ReadTimeout):
        return "read timeout"
    return "connection failed" if never_sent(exc) else "connection lost"
