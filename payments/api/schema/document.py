"""The document as a whole: the `SecretKey` security scheme and the postprocessing hook."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class SecretKeyScheme(OpenApiAuthenticationExtension):
    target_class = "merchants.authentication.SecretKeyAuthentication"
    name = "SecretKey"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "sk_test_... | sk_live_...",
            "description": (
                "`Authorization: Bearer <secret key>`. The key's prefix selects the mode: `sk_test_` keys see "
                "test-mode objects only, `sk_live_` keys live-mode objects only. Publishable keys (`pk_...`) "
                "are refused with 403 `publishable_key_not_allowed`."
            ),
        }


def strip_trailing_slashes(result, generator, request, public):
    """drf-spectacular postprocessing hook: show the canonical routes, `/v1/payments` not `/v1/payments/`.

    Our routes end in `/?` (a trailing slash is accepted, never required: spec §1), which
    drf-spectacular renders as a trailing slash. Enable it in SPECTACULAR_SETTINGS:
    `"POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
    "payments.api.schema.strip_trailing_slashes"]`.
    """
    paths = result.get("paths", {})
    result["paths"] = {(path.rstrip("/") or "/"): item for path, item in paths.items()}
    return result
