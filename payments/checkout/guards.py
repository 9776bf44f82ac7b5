"""Protections of the public checkout pages: card-testing rate limits, per-merchant country
blocking, the hosted form's own anti-forgery token, and who may frame the page (the lightbox).

Rate limits live in the cache (Redis in production, shared by every web process), as sliding
windows: the current window's count plus the previous one's, weighted by how much of it still
overlaps. Nothing here ever sees a card number: keys are payment tokens and client addresses.
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import constant_time_compare, salted_hmac

from payments import paybutton
from payplug import geoip
from payplug.client import client_ip

WINDOW_SECONDS = 3600


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


@dataclass
class Limit:
    allowed: bool
    retry_after: int = 0


def _network_of(ip: str | None) -> str:
    """The unit we count: an IPv4 address, or an IPv6 /64 (one subscriber's usual allocation)."""
    if not ip:
        return "unknown"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _hit(bucket: str, limit: int, window: int = WINDOW_SECONDS) -> Limit:
    """Count one event in `bucket`; refuse it when the sliding window already holds `limit`."""
    now = time.time()
    current = int(now // window)
    key, previous_key = f"checkout-rl:{bucket}:{current}", f"checkout-rl:{bucket}:{current - 1}"
    previous = cache.get(previous_key) or 0
    cache.add(key, 0, timeout=2 * window)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=2 * window)
        count = 1
    elapsed = (now % window) / window
    estimated = count + previous * (1 - elapsed)
    if estimated <= limit:
        return Limit(True)
    # When enough of the previous window has slid out for one more event.
    wait = ((count + previous - limit) / previous) * window - (now % window) if previous else window - (now % window)
    return Limit(False, retry_after=max(1, math.ceil(wait)))


def card_submission(request, payment) -> Limit:
    """One card (or saved card) submitted on a hosted page: per payment and per client address.

    Defaults: 10 per payment and 30 per address an hour (settings CHECKOUT_CARD_LIMIT_PER_PAYMENT,
    CHECKOUT_CARD_LIMIT_PER_IP). Form errors count too: card testers probe with bad numbers.
    """
    per_payment = _hit(f"pay:{payment.pk}", _limit("CHECKOUT_CARD_LIMIT_PER_PAYMENT", 10))
    per_ip = _hit(f"ip:{_network_of(client_ip(request))}", _limit("CHECKOUT_CARD_LIMIT_PER_IP", 30))
    if per_payment.allowed and per_ip.allowed:
        return Limit(True)
    return Limit(False, retry_after=max(per_payment.retry_after, per_ip.retry_after))


def payment_creation(request, kind: str) -> Limit:
    """Payments started from public pages (payment links, pay buttons): per client address."""
    return _hit(f"{kind}:{_network_of(client_ip(request))}", _limit("CHECKOUT_CREATE_LIMIT_PER_IP", 60))


# --- countries --------------------------------------------------------------------------------------


def blocked_country(request, merchant) -> str | None:
    """The shopper's country when the merchant refuses payments from it, else None.

    From the offline database shipped in geoip2fast: nothing is looked up over the network.
    Private and unknown addresses are never blocked.
    """
    blocked = {str(code).upper() for code in (merchant.blocked_countries or [])}
    if not blocked:
        return None
    country = geoip.country_of(client_ip(request))
    return country if country in blocked else None


# --- the hosted form's token ------------------------------------------------------------------------


def form_token(payment) -> str:
    """The hidden `csrfmiddlewaretoken` of the hosted page's forms.

    Stateless (an HMAC of the page's token), because the page also runs in a cross-site iframe
    (the pay button's lightbox) where browsers do not send our cookies, so Django's cookie-based
    token cannot work there. A forged POST must come from a page that knew the payment's secret
    URL, and its browser's Origin header must be ours.
    """
    return salted_hmac("payments.checkout.form", payment.hosted_token or "").hexdigest()


def own_origins(request) -> set[str]:
    origins = {f"{request.scheme}://{request.get_host()}".lower()}
    base = urlsplit(settings.PUBLIC_BASE_URL)
    if base.scheme and base.netloc:
        origins.add(f"{base.scheme}://{base.netloc}".lower())
    return origins


def form_is_genuine(request, payment) -> bool:
    if getattr(request, "_dont_enforce_csrf_checks", False):  # Django's test client, as for its own CSRF
        return True
    origin = request.headers.get("Origin")
    if origin and origin != "null" and origin.lower() not in own_origins(request):
        return False
    return constant_time_compare(request.POST.get("csrfmiddlewaretoken", ""), form_token(payment))


# --- framing (the pay button's lightbox) ----------------------------------------------------------


def frame_origins(payment) -> list[str]:
    """Who may frame this payment's pages: the merchant's allowed origins, for pay-button payments only."""
    if payment.source != "button":
        return []
    origins = [o for o in (payment.merchant.allowed_origins or []) if isinstance(o, str)]
    return [o for o in origins if paybutton.origin_usable(o, payment.is_live)]


def allow_framing(response, payment, request=None):
    """Open the page to the lightbox: CSP frame-ancestors = the allowed origins, no X-Frame-Options."""
    origins = frame_origins(payment)
    if payment.source == "button" and not payment.is_live:
        origins = ["'self'", *origins]  # the dashboard's live preview opens the lightbox on our own pages
    if not origins:
        return response
    response._csp_replace = {"frame-ancestors": origins}
    response.xframe_options_exempt = True
    return response
