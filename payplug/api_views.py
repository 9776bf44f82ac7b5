"""Base class of the /v1 views (kept apart from payplug.api, which DRF's settings import)."""

import logging
import re

from rest_framework import exceptions
from rest_framework.views import APIView

from payplug import ratelimit
from payplug.api import ApiError
from payplug.client import client_ip

logger = logging.getLogger(__name__)
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ApiView(APIView):
    """Base of every /v1 view: the authenticated (merchant, mode) are on the request.

    Before the view runs: authentication, the rate limit (per key, or per IP for requests that
    fail authentication) and the `PayPlug-Version` header (spec §1, §2, §15).
    """

    def initial(self, request, *args, **kwargs):
        try:
            super().initial(request, *args, **kwargs)
        except (exceptions.NotAuthenticated, exceptions.AuthenticationFailed, exceptions.PermissionDenied):
            self._limit(request, "ip:" + (client_ip(request) or ""))
            raise
        verdict = getattr(request, "rate_limit", None)  # taken by the authentication with Redis
        if verdict is None:
            key = request.auth.key
            self._limit(request, key.rate_limit_bucket(key.key_hash))
        else:
            self._enforce(verdict)
        version = request.headers.get("PayPlug-Version", "")
        if version and not _VERSION.match(version.strip()):
            raise ApiError(
                "invalid_request",
                "PayPlug-Version: must be a date (YYYY-MM-DD).",
                details={"PayPlug-Version": "must be a date (YYYY-MM-DD)."},
            )

    def _limit(self, request, key):
        verdict = ratelimit.take(key)
        request.rate_limit = verdict
        self._enforce(verdict)

    @staticmethod
    def _enforce(verdict):
        if not verdict.allowed:
            raise ApiError(
                "rate_limited",
                "Too many requests: slow down.",
                status=429,
                headers={"Retry-After": str(verdict.retry_after)},
            )

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        verdict = getattr(request, "rate_limit", None)
        if verdict is not None:
            response["X-RateLimit-Limit"] = str(verdict.limit)
            response["X-RateLimit-Remaining"] = str(verdict.remaining)
            response["X-RateLimit-Reset"] = str(verdict.reset_at)
        return response

    def get_merchant(self):
        return self.request.auth.merchant

    @property
    def is_live(self) -> bool:
        return self.request.auth.is_live

    def json_body(self) -> dict:
        data = self.request.data
        if not isinstance(data, dict):  # QueryDict of an empty body
            return {}
        return data


class UnknownRoute(ApiView):
    """Every /v1 path that no route matches: authentication first, then 404 (spec §3 order)."""

    schema = None  # not part of the OpenAPI document

    def _not_found(self, request, *args, **kwargs):
        raise exceptions.NotFound()

    get = post = patch = put = delete = head = options = _not_found
