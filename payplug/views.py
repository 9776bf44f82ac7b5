"""Liveness, readiness, metrics, and the error pages shared by the dashboard and the API."""

import logging
import os

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from .api import error_response
from .metrics import run_scrape_hooks

logger = logging.getLogger(__name__)


def api_liveness(request):
    """`GET /test`: PayPlug's SDKs use it to check that the API is reachable."""
    return JsonResponse({"status": "ok"})


def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database():
    for alias in connections:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")


def _check_cache():
    cache.set("readyz", "1", 5)
    if cache.get("readyz") != "1":
        raise RuntimeError("cache did not return what was written")


def _check_broker():
    from payplug.celery import app

    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)


def readyz(request):
    checks = {"database": _check_database, "cache": _check_cache}
    if settings.CELERY_BROKER_URL:
        checks["broker"] = _check_broker
    results, ready = {}, True
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # any failure of a dependency means "not ready"
            logger.warning("readiness check %s failed: %s", name, exc)
            results[name] = "unavailable"
            ready = False
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)


def metrics(request):
    try:
        run_scrape_hooks()
    except Exception:  # a scrape must not fail because one gauge could not be refreshed
        logger.exception("metrics scrape hook failed")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _is_api(request) -> bool:
    return request.path == "/v1" or request.path.startswith("/v1/")


def page_not_found(request, exception=None):
    if _is_api(request):
        return error_response("not_found", "No such resource.", 404)
    return render(request, "404.html", status=404)


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
    from django.shortcuts import redirect

    return redirect("dashboard:home" if request.user.is_authenticated else "login")
