"""API authentication (spec §2): `Authorization: Bearer sk_...` resolves (merchant, mode)."""

from dataclasses import dataclass

from rest_framework import authentication, exceptions, permissions

from merchants import keycache
from merchants.models import ApiKey, Merchant
from merchants.services.keys import find_api_key
from payplug import ratelimit


@dataclass(frozen=True)
class ApiCaller:
    """What an authenticated API request acts as: `request.auth`."""

    merchant: Merchant
    is_live: bool
    key: ApiKey


class MerchantPrincipal:
    """`request.user` of an API request: not a dashboard user, only a carrier for DRF."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, merchant):
        self.merchant = merchant

    def __str__(self):
        return self.merchant.public_id


class SecretKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None  # -> 401 authentication_required from IsMerchant
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise exceptions.NotAuthenticated()
        raw = raw.strip()
        if not (
            raw.startswith("sk_test_")
            or raw.startswith("sk_live_")
            or raw.startswith("pk_test_")
            or raw.startswith("pk_live_")
        ):
            raise exceptions.AuthenticationFailed("Invalid API key.", code="invalid_api_key")
        version = keycache.UNKNOWN
        if keycache.enabled():
            # The key's rate limit, and the authentication version in the same Redis call: read before
            # anything from the database, so a key cached under it is current (merchants.keycache).
            # payplug.api_views enforces the verdict once authentication is through.
            verdict = ratelimit.take(ApiKey.rate_limit_bucket(ApiKey.hash_key(raw)), read=keycache.VERSION_KEY)
            request.rate_limit = verdict
            if verdict.read_ok:
                version = verdict.value
        key = find_api_key(raw, auth_version=version)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid API key.", code="invalid_api_key")
        if key.kind == ApiKey.Kind.PUBLISHABLE:
            raise exceptions.PermissionDenied(
                "Publishable keys can only start a checkout; use a secret key.",
                code="publishable_key_not_allowed",
            )
        merchant = key.merchant
        if merchant.status == Merchant.Status.SUSPENDED:
            raise exceptions.PermissionDenied("This account is suspended.", code="account_suspended")
        # live_enabled reads the live_ready column loaded with the key: no query on the hot path.
        if key.is_live and not merchant.live_enabled:
            raise exceptions.PermissionDenied("Live mode is not enabled for this account.", code="account_not_live")
        return MerchantPrincipal(merchant), ApiCaller(merchant=merchant, is_live=key.is_live, key=key)

    def authenticate_header(self, request):
        return self.keyword


class IsMerchant(permissions.BasePermission):
    def has_permission(self, request, view):
        if not isinstance(request.auth, ApiCaller):
            raise exceptions.NotAuthenticated()
        return True
