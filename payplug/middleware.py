"""Request ids, Prometheus request metrics, and the JSON 500 of the API."""

import logging
import time

from django.conf import settings

from payplug.api import error_response
from payplug.ids import random_base62
from payplug.logging import request_id_var
from payplug.metrics import REQUEST_LATENCY, REQUESTS

logger = logging.getLogger("payplug.request")


class RequestIdMiddleware:
    """Give every request an id (`req_...`), for logs, the `X-Request-Id` header and API errors."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = "req_" + random_base62(20)
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            if request.path.startswith("/v1/") and settings.API_REQUIRE_HTTPS and not request.is_secure():
                response = error_response("https_required", "The API is only served over HTTPS.", 403)
            else:
                response = self.get_response(request)
            response["X-Request-Id"] = request_id
            return response
        finally:
            request_id_var.reset(token)

    def process_exception(self, request, exception):
        # Unhandled errors of the API still answer in the API's error format.
        if request.path.startswith("/v1/") or request.path == "/v1":
            logger.exception("Unhandled API error on %s %s", request.method, request.path)
            return error_response("server_error", "An internal error occurred; it has been logged.", 500)
        return None


# Label values must stay a small, fixed set: anything else a client sends counts as "other".
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.view_name if match and match.view_name else "unmatched"
        method = request.method if request.method in _KNOWN_METHODS else "other"
        elapsed = time.perf_counter() - started
        REQUESTS.labels(method, route, str(response.status_code)).inc()
        REQUEST_LATENCY.labels(method, route).observe(elapsed)
        return response
