"""What every connector that speaks HTTP to its provider shares: which base URLs are allowed
(payplug.addresses), and what a `requests` failure says about whether the request could have reached the provider.

The second matters for money: a request that never left (no connection was ever established)
cannot have authorised anything, so the attempt may safely fail or go elsewhere; one that may
have left is UNKNOWN until an inquiry says what happened (payments.acquirers.base).
"""

from __future__ import annotations

import ssl

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from payplug.addresses import checked_base_url, is_loopback

__all__ = ["causes", "checked_base_url", "describe", "is_loopback", "never_sent"]


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
