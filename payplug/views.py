"""Liveness, readiness, metrics, and the error pages shared by the dashboard and the API."""

import contextvars
import functools
import hmac
import ipaddress
import logging
import os
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from payplug.api import error_response
from payplug.celery import app
from payplug.metrics import run_scrape_hooks

logger = logging.getLogger(__name__)


def api_liveness(request):
    """`GET /test`: PayPlug's SDKs use it to check that the API is reachable."""
    return JsonResponse({"status": "ok"})


def healthz(request):
    return JsonResponse({"status": "ok"})


# /readyz answers within this many seconds whatever its dependencies do: a check still
# running at the deadline counts as failed ("timeout").
READYZ_TIMEOUT_SECONDS = 3.0
# Connecting to the broker for a check: one attempt, no retry loop, short socket timeouts.
BROKER_CHECK_TIMEOUT_SECONDS = 2.0


def check_database():
    for alias in connections:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")


def check_cache():
    cache.set("readyz", "1", 5)
    if cache.get("readyz") != "1":
        raise RuntimeError("cache did not return what was written")


def check_broker():
    timeout = BROKER_CHECK_TIMEOUT_SECONDS
    url = getattr(settings, "CELERY_BROKER_WRITE_URL", None) or settings.CELERY_BROKER_URL
    with app.connection_for_write(
        url,
        connect_timeout=timeout,
        # The Redis transport reads its socket timeouts from the transport options.
        transport_options={"socket_connect_timeout": timeout, "socket_timeout": timeout},
    ) as connection:
        connection.ensure_connection(max_retries=0)


def _run_check(name, check, results, errors, log):
    try:
        check()
        results[name] = "ok"
    except Exception as exc:  # any failure of a dependency means "not ready"
        errors[name] = f"{type(exc).__name__}: {exc}"
        if log:
            logger.warning("readiness check %s failed: %s", name, errors[name])
        results[name] = "unavailable"
    finally:
        # Connections opened by this thread are this thread's: do not leak them.
        connections.close_all()


def run_checks(checks, timeout, errors=None, log=True):
    """Run the checks concurrently; `{name: "ok" | "unavailable" | "timeout"}` within `timeout` seconds.

    Each check runs in its own daemon thread, so that a dependency that does not answer (a
    black-holed host, a missing connect timeout in a client library) cannot hold the caller.
    `errors`, when given, receives the reason of each failure.
    """
    results = dict.fromkeys(checks, "timeout")
    errors = {} if errors is None else errors
    # Each thread runs in a copy of the caller's context, so its log lines keep the request id.
    threads = [
        threading.Thread(
            target=contextvars.copy_context().run,
            args=(_run_check, name, check, results, errors, log),
            name=f"check-{name}",
            daemon=True,
        )
        for name, check in checks.items()
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    snapshot = dict(results)
    for name, status in snapshot.items():
        if status == "timeout":
            errors[name] = f"no answer within {timeout:.1f}s"
            if log:
                logger.warning("readiness check %s did not answer within %.1fs", name, timeout)
    return snapshot


def service_checks():
    """The dependencies of this deployment: database, cache, and the broker when one is configured."""
    checks = {"database": check_database, "cache": check_cache}
    if settings.CELERY_BROKER_URL:
        checks["broker"] = check_broker
    return checks


def readyz(request):
    results = run_checks(service_checks(), READYZ_TIMEOUT_SECONDS)
    ready = all(status == "ok" for status in results.values())
    response = JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503
    )
    response["Cache-Control"] = "no-store"
    return response


# --- /metrics access ------------------------------------------------------------------
_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(network) for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)


def _parse_ip(value):
    """An address from REMOTE_ADDR or a forwarding header ("1.2.3.4", "1.2.3.4:80", "[::1]:80"), or None."""
    value = value.strip().strip('"')
    if value.startswith("["):
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address


def _client_addresses(request):
    """The peer address and every address a proxy says the request went through.

    Spoofed entries can only add addresses, and every one must be allowed, so a header
    cannot open the endpoint; a load balancer that appends the real client to
    X-Forwarded-For keeps the public internet out even though it connects from a private address.
    """
    values = [request.META.get("REMOTE_ADDR", "")]
    if "HTTP_X_FORWARDED_FOR" in request.META:
        values += request.META["HTTP_X_FORWARDED_FOR"].split(",")
    if "HTTP_X_REAL_IP" in request.META:
        values.append(request.META["HTTP_X_REAL_IP"])
    for element in request.META.get("HTTP_FORWARDED", "").replace(";", ",").split(","):
        key, _, value = element.strip().partition("=")
        if key.lower() == "for":
            values.append(value)
    return [_parse_ip(value) for value in values]


def _allowed_networks():
    networks = []
    for entry in getattr(settings, "METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"]):
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {entry!r} is not an address or network.") from exc
    if getattr(settings, "METRICS_ALLOW_PRIVATE", True):
        networks += _PRIVATE_NETWORKS
    return networks


def _metrics_denied(request):
    """None when the caller may read /metrics, else the response to send."""
    token = getattr(settings, "METRICS_TOKEN", "")
    if token:
        scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode(), token.encode()):
            return None
        response = HttpResponse("Authentication required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    networks = _allowed_networks()
    addresses = _client_addresses(request)
    if all(address is not None and any(address in network for network in networks) for address in addresses):
        return None
    return HttpResponse("Forbidden.\n", status=403, content_type="text/plain")


def metrics(request):
    denied = _metrics_denied(request)
    if denied is not None:
        return denied
    try:
        run_scrape_hooks()
    except Exception:  # a scrape must not fail because one gauge could not be refreshed
        logger.exception("metrics scrape hook failed")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _is_api(request) -> bool:
    return request.path == "/v1" or request.path.startswith("/v1/")


# What shoppers open (hosted checkout, pay button, payment links): no dashboard to go back to.
SHOPPER_PREFIXES = ("/pay/", "/l/")


def _is_shopper(request) -> bool:
    return request.path.startswith(SHOPPER_PREFIXES)


def page_not_found(request, exception=None):
    if _is_api(request):
        return error_response("not_found", "No such resource.", 404)
    return render(request, "404.html", {"shopper": _is_shopper(request)}, status=404)


def shopper_not_found(view):
    """A shopper's page answers a bad address with our own "page not found", even with DEBUG on
    (`make run`), where Django's would list the URL patterns (issue 12, finding 21)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Http404:
            return page_not_found(request)

    return wrapped


def public_not_found(request, *args, **kwargs):
    """The last route under /pay/ and /l/: an address that matches nothing else."""
    return page_not_found(request)


def server_error(request):
    if _is_api(request):
        return error_response("server_error", "An internal error occurred; it has been logged.", 500)
    return render(request, "500.html", status=500)


def permission_denied(request, exception=None):
    if _is_api(request):
        return error_response("forbidden", "Forbidden.", 403)
    return render(request, "403.html", status=403)


def bad_request(request, exception=None):
    if _is_api(request):
        return error_response("invalid_request", "Bad request.", 400)
    return render(request, "400.html", status=400)


def root(request):
    return redirect("dashboard:home" if request.user.is_authenticated else "login")
