"""Offline IP geolocation: the country of a shopper's IP, from the database that ships inside the
geoip2fast package. Nothing is looked up over the network."""

from __future__ import annotations

import ipaddress
import threading

from geoip2fast import GeoIP2Fast

_lock = threading.Lock()
_reader = None


def _get_reader():
    global _reader
    if _reader is None:
        with _lock:
            if _reader is None:
                _reader = GeoIP2Fast(verbose=False)
    return _reader


def country_of(ip: str | None) -> str | None:
    """ISO 3166-1 alpha-2 country of a public IP address; None for private, reserved or unknown."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if not address.is_global:
        return None
    result = _get_reader().lookup(str(address))
    code = getattr(result, "country_code", "") or ""
    return code.upper() if len(code) == 2 and code.isalpha() else None
