"""The wire conventions of the v1 API (spec §1, §3, §5): JSON in, JSON out, one error object.

Every app's API views build on `ApiView`; every error leaves through `exception_handler`
as `{"object": "error", "code", "message", "details", "request_id"}`.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import JSONRenderer as _JSONRenderer

from payplug.logging import request_id_var

logger = logging.getLogger(__name__)


class ApiError(exceptions.APIException):
    """An error with the spec's code and message, raised by views and services alike."""

    status_code = 400
    default_code = "invalid_request"

    def __init__(self, code: str, message: str, status: int = 400, details: dict | None = None, headers=None):
        self.code = code
        self.message = message
        self.status_code = status
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(detail=message, code=code)


class JSONRenderer(_JSONRenderer):
    charset = "utf-8"


class JSONNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, answered at once for what nearly every API client sends: no Accept
    header, `*/*` or `application/json`, and no `?format=` (DRF would parse and rank the header
    for each request to reach the same JSON renderer; about 4 % of a create's CPU)."""

    _SIMPLE = frozenset({None, "*/*", "application/json"})  # None: no Accept header

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT")
        if (
            not format_suffix
            and (accept if accept is None else accept.strip()) in self._SIMPLE
            and self.settings.URL_FORMAT_OVERRIDE not in request.GET
        ):
            for renderer in renderers:
                if renderer.media_type == "application/json":
                    return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)


class AnyJSONParser(BaseParser):
    """Parse the body as a JSON object whatever the Content-Type (spec §1)."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        return parse_json_object(raw)


def _not_json(name: str):
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999: stored, it could never be rendered back as JSON
        raise ValueError("number out of range")
    return value


# A \uD800-\uDFFF escape: only a lone surrogate is a problem, and only such an escape can make one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


MAX_JSON_DEPTH = 32  # objects and arrays inside one another; deeper bodies are refused before any work


def _too_deep(data, limit: int = MAX_JSON_DEPTH) -> bool:
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def parse_json_object(raw: bytes) -> dict:
    if len(raw) > settings.API_MAX_BODY_BYTES:
        raise ApiError("payload_too_large", "The request body is larger than 64 KiB.", status=413)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_not_json, parse_float=_finite_float)
        if _SURROGATE_ESCAPE.search(raw):
            json.dumps(data, ensure_ascii=False).encode("utf-8")  # lone surrogates cannot be stored or sent
    except (UnicodeError, ValueError, RecursionError) as exc:
        raise ApiError("invalid_json", "The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise ApiError("invalid_json", "The request body must be a JSON object.")
    if _too_deep(data):
        raise ApiError("invalid_json", f"The request body is nested more than {MAX_JSON_DEPTH} levels deep.")
    return data


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {
        "object": "error",
        "code": code,
        "message": message,
        "details": details or {},
        "request_id": request_id_var.get(),
    }


def error_response(code: str, message: str, status: int, details: dict | None = None, headers=None):
    response = JsonResponse(error_body(code, message, details), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def flatten_validation_errors(detail) -> tuple[dict, str]:
    """DRF's nested error lists -> (nested {field: message} details, "first.path: message")."""

    def walk(node, path):
        if isinstance(node, dict):
            out, first = {}, None
            for key, value in node.items():
                sub, sub_first = walk(value, [*path, str(key)])
                out[str(key)] = sub
                first = first or sub_first
            return out, first
        if isinstance(node, list):
            if node and all(isinstance(item, (dict, list)) for item in node):
                # a list of nested objects: keep the first offending one
                for index, item in enumerate(node):
                    if item:
                        return walk(item, [*path, str(index)])
            message = str(node[0]) if node else "is invalid."
            return message, (".".join(path) + ": " + message) if path else message
        message = str(node)
        return message, (".".join(path) + ": " + message) if path else message

    details, first = walk(detail, [])
    if not isinstance(details, dict):
        details = {"non_field_errors": details}
    return details, first or "The request is invalid."


_AUTH_CODES = {"authentication_required", "invalid_api_key"}


def exception_handler(exc, context):
    """DRF exception handler: every API error in the spec's error object."""
    headers = {}
    if isinstance(exc, ApiError):
        status, code, message, details = exc.status_code, exc.code, exc.message, exc.details
        headers.update(exc.headers)
    elif isinstance(exc, exceptions.ValidationError):
        details, message = flatten_validation_errors(exc.detail)
        status, code = 400, "invalid_request"
    elif isinstance(exc, exceptions.NotAuthenticated):
        status, code = 401, "authentication_required"
        message = "Authentication required: send 'Authorization: Bearer <secret key>'."
        details = {}
        headers["WWW-Authenticate"] = "Bearer"
    elif isinstance(exc, exceptions.AuthenticationFailed):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) and codes in _AUTH_CODES else "invalid_api_key"
        status, message, details = 401, str(exc.detail), {}
        headers["WWW-Authenticate"] = "Bearer"
    elif isinstance(exc, (exceptions.PermissionDenied, DjangoPermissionDenied)):
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "forbidden"
        status, code = 403, codes if isinstance(codes, str) else "forbidden"
        message, details = str(getattr(exc, "detail", "Forbidden.")), {}
    elif isinstance(exc, (exceptions.NotFound, Http404)):
        status, code, message, details = 404, "not_found", "No such resource.", {}
    elif isinstance(exc, exceptions.MethodNotAllowed):
        status, code, details = 405, "method_not_allowed", {}
        message = f"Method {context['request'].method} is not allowed on this route."
    elif isinstance(exc, exceptions.Throttled):
        status, code, message, details = 429, "rate_limited", "Too many requests.", {}
        if exc.wait:
            headers["Retry-After"] = str(int(exc.wait) + 1)
    elif isinstance(exc, (exceptions.ParseError, exceptions.UnsupportedMediaType)):
        status, code, message, details = 400, "invalid_json", "The request body is not valid JSON.", {}
    elif isinstance(exc, exceptions.APIException):
        status, code = exc.status_code, exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        message, details = str(exc.detail), {}
    else:
        return None  # unexpected: the API middleware answers 500 in the error format and logs it
    response = error_response(code, message, status, details, headers)
    # DRF expects its own Response type to set renderers; a plain JsonResponse is fine for errors.
    return response


# --- Strict fields: JSON types are part of the contract (spec §7.2) ------------------------------


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": "must be an integer."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "must be a boolean (true or false)."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictDictField(serializers.DictField):
    default_error_messages = {"not_a_dict": "must be a JSON object."}


_prepared = threading.local()


class StrictSerializer(serializers.Serializer):
    """Rejects unknown keys, so that typos such as `notifcation_url` never pass silently."""

    default_error_messages = {"invalid": "must be a JSON object."}

    @classmethod
    def check(cls, data, context: dict, **kwargs) -> dict:
        """`data` validated (or ValidationError), by a field tree built once per thread.

        DRF builds a serializer's field tree for each instance: deep copies of every declared
        field, nested serializers included, then binding. On a payment creation that is 80 % of
        the validation time (bench/README.md). The fields keep no state between calls (the data
        and the errors live in the call; the context is read from the root), so one bound
        instance per thread and per (class, options) serves every request of that thread.
        """
        cache = _prepared.__dict__.setdefault("serializers", {})
        signature = (cls, tuple(sorted(kwargs.items())))
        serializer = cache.get(signature)
        if serializer is None:
            serializer = cls(data={}, **kwargs)
            serializer.fields  # noqa: B018 (builds and binds the tree, nested serializers lazily)
            cache[signature] = serializer
        serializer.initial_data = data
        serializer._context = context
        try:
            serializer.is_valid(raise_exception=True)
            return serializer.validated_data
        finally:
            serializer.initial_data = None
            serializer._context = {}
            for name in ("_validated_data", "_errors", "_data"):
                serializer.__dict__.pop(name, None)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["must be a JSON object."]})
        unknown = [key for key in data if key not in self.fields or self.fields[key].read_only]
        errors = {}
        try:
            value = super().to_internal_value(data)
        except exceptions.ValidationError as exc:
            errors.update(exc.detail)
            value = None
        for key in unknown:
            errors[key] = [exceptions.ErrorDetail("is not a known field.", code="unknown")]
        if errors:
            raise exceptions.ValidationError(errors)
        return value


_PRINTABLE_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def is_valid_idempotency_key(key: str) -> bool:
    return bool(_PRINTABLE_KEY.match(key))
