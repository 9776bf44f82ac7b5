"""The PayPlug plugin endpoints (addendum §18, §19): `GET /v1/account`, `POST /v1/keys`,
`POST /v1/publishable_keys`.

They are what the official PHP SDK's `Authentication` class calls (`getAccount`, `getPermissions`,
`getKeysByLogin`, `getPermissionsByLogin`, `getPublishableKeys`) and what the CMS plugins built on it
(WooCommerce, PrestaShop, Magento) read when a merchant connects a shop with an email and password.

`POST /v1/keys` is the one v1 route without a secret key: it is a login. It goes through
`django.contrib.auth.authenticate`, hence through django-axes exactly like the dashboard login
(same failure count per email and address, same lockout), asks users with two-factor
authentication for a one-time code (`otp`) unless `password` is one of their plugin passwords
(merchants.services.plugin_passwords: made in the dashboard for plugins that cannot send a code,
never accepted by the dashboard login), and answers with new secret keys
(`merchants.services.keys.create_plugin_key`). No key, password or code is ever logged or stored
in an idempotency record.
"""

from __future__ import annotations

import re

from axes import utils as axes_utils
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_credentials
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import F
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django_otp import user_has_device
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from merchants.forms.accounts import verify_second_factor
from merchants.models import ApiKey, Membership, Merchant
from merchants.roles import MANAGE_KEYS, role_allows
from merchants.services import plugin_passwords
from merchants.services.audit import Actor
from merchants.services.keys import create_api_key, create_plugin_key
from payments.api import schema
from payments.api.docs import api_operation
from payments.api.idempotency import idempotent
from payments.links import merchant_bounds
from payplug import ratelimit
from payplug.api import ApiError, StrictCharField, StrictSerializer
from payplug.api_views import ApiView
from payplug.client import client_ip

CURRENCIES = ("EUR",)
_OTP = re.compile(r"^[0-9A-Za-z -]*$")
_ACCOUNT_ID = re.compile(r"^acct_[0-9A-Za-z]+$")

# The payment methods the plugins look up in `payment_methods` (none is offered here, spec §14,
# but American Express cards when the merchant accepts them).
OTHER_PAYMENT_METHODS = (
    "american_express",
    "apple_pay",
    "bancontact",
    "bizum",
    "giropay",
    "ideal",
    "mybank",
    "satispay",
    "scalapay",
    "sofort",
    "wero",
)

# Who may get keys by login, best first when a user belongs to several organisations.
ROLE_PREFERENCE = (Membership.Role.OWNER, Membership.Role.ADMIN, Membership.Role.DEVELOPER)


def permissions(merchant: Merchant, is_live: bool) -> dict:
    """What this platform really does for this merchant in this mode (a flag is true only if it works)."""
    return {
        "use_live_mode": merchant.live_enabled,
        # Test mode always saves cards; live mode once staff enabled it (spec §2 `feature_not_enabled`).
        "can_save_cards": (not is_live) or merchant.live_save_card_enabled,
        # Installment plans (addendum §17) keep the card for the later installments: as saved cards.
        "can_create_installment_plan": (not is_live) or merchant.live_save_card_enabled,
        "can_create_deferred_payment": True,  # `authorized_amount` then capture (spec §7.5)
        "can_use_oney": False,
        "can_use_integrated_payments": False,  # hosted fields are not offered (spec §14)
        "can_use_american_express": merchant.accepts_american_express,  # Settings > Payment methods
        "can_use_bancontact": False,
        "can_use_apple_pay": False,
    }


def account_object(merchant: Merchant, is_live: bool) -> dict:
    low, high = merchant_bounds(merchant)
    methods = {name: {"enabled": False} for name in OTHER_PAYMENT_METHODS}
    methods["apple_pay"]["allowed_domain_names"] = []
    methods["american_express"]["enabled"] = merchant.accepts_american_express
    return {
        "id": merchant.public_id,
        "object": "account",
        "is_live": is_live,
        "company_name": merchant.name,
        "country": merchant.country or None,
        "configuration": {
            "currencies": list(CURRENCIES),
            "min_amounts": dict.fromkeys(CURRENCIES, low),
            "max_amounts": dict.fromkeys(CURRENCIES, high),
            # The WooCommerce plugin reads these even when `can_use_oney` is false: Oney takes no currency here.
            "oney": {"min_amounts": {}, "max_amounts": {}, "allowed_countries": []},
        },
        "permissions": permissions(merchant, is_live),
        "payment_methods": methods,
    }


# --- requests ---------------------------------------------------------------------------------------


class PublishableKeyCreateSerializer(StrictSerializer):
    """No field: the body is empty or `{}` (the PHP SDK sends none)."""


class KeysLoginSerializer(StrictSerializer):
    email = StrictCharField(max_length=254)
    password = StrictCharField(max_length=4096, trim_whitespace=False)
    otp = StrictCharField(required=False, allow_blank=True, max_length=32)
    account = StrictCharField(required=False, max_length=40)

    def validate_otp(self, value):
        if not _OTP.match(value):
            raise serializers.ValidationError("must be digits or letters (spaces and dashes are ignored).")
        return value

    def validate_account(self, value):
        if not _ACCOUNT_ID.match(value):
            raise serializers.ValidationError("must be an account id (acct_...).")
        return value


# --- views ------------------------------------------------------------------------------------------


def _actor(request) -> Actor:
    return Actor(label=f"api {request.auth.key.prefix}", ip_address=client_ip(request))


class AccountDetail(ApiView):
    @api_operation(
        "account_retrieve",
        "account and keys",
        "Retrieve the account",
        schema.Account,
        description=(
            "The merchant account of the secret key, in the key's mode: currencies, payment limits and what the "
            "account may do (`permissions`, true only where the feature works). The PayPlug plugins read it to set "
            "themselves up."
        ),
        errors=(400, 401, 403, 429),
        success_examples=schema.ACCOUNT_EXAMPLES,
    )
    def get(self, request):
        return Response(account_object(self.get_merchant(), self.is_live))


class PublishableKeyCreate(ApiView):
    @api_operation(
        "publishable_keys_create",
        "account and keys",
        "Get the publishable key",
        schema.PublishableKey,
        status=201,
        request=PublishableKeyCreateSerializer,
        errors=(400, 401, 403, 409, 413, 429),
        description=(
            "The publishable key (`pk_...`) of the secret key's mode: the current one, or a new one if the "
            "mode has none. Publishable keys are public (they only start a checkout)."
        ),
    )
    @idempotent
    def post(self, request):
        PublishableKeyCreateSerializer.check(self.json_body(), {})
        merchant, is_live = self.get_merchant(), self.is_live
        with transaction.atomic():
            Merchant.objects.select_for_update().filter(pk=merchant.pk).first()  # two first calls make one key
            key = (
                ApiKey.objects.usable()
                .filter(merchant=merchant, is_live=is_live, kind=ApiKey.Kind.PUBLISHABLE)
                .order_by(F("expires_at").desc(nulls_first=True), "-created_at", "-pk")  # not one being rolled out
                .first()
            )
            if key is None:
                key, _raw = create_api_key(
                    merchant, is_live=is_live, kind=ApiKey.Kind.PUBLISHABLE, actor=_actor(request)
                )
        return Response({"publishable_key": key.publishable_value}, status=201)


def _login_error(code: str, message: str, status: int = 401, **headers) -> ApiError:
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return ApiError(code, message, status=status, headers=headers)


def _locked_out(http_request) -> ApiError:
    http_request.axes_locked_out = False  # answered here in the API's error format, not by axes' HTML page
    cool_off = get_cool_off(http_request)
    seconds = max(1, int(cool_off.total_seconds())) if cool_off else 3600
    return _login_error(
        "login_locked",
        "Too many failed logins for this email from this address: try again later.",
        status=settings.AXES_HTTP_RESPONSE_CODE,
        **{"Retry-After": str(seconds)},
    )


def _is_locked_out(http_request, email: str) -> bool:
    """Whether django-axes refuses this email from this address now, as its authentication backend
    would (checked before a plugin password, which django.contrib.auth.authenticate does not know)."""
    return settings.AXES_ENABLED and not AxesProxyHandler.is_allowed(http_request, get_credentials(username=email))


def _choose_membership(user, account_id: str | None) -> Membership:
    memberships = list(user.memberships.select_related("merchant"))
    if not memberships:
        raise _login_error("no_account", "This user is a member of no account.", status=403)
    if account_id:
        chosen = next((m for m in memberships if m.merchant.public_id == account_id), None)
        if chosen is None:
            raise ApiError(
                "invalid_request",
                "account: is not an account of this user.",
                details={"account": "is not an account of this user."},
            )
        candidates = [chosen]
    else:
        candidates = memberships
    allowed = [m for m in candidates if role_allows(m.role, MANAGE_KEYS)]
    if not allowed:
        raise _login_error(
            "insufficient_role",
            "This user's role may not manage API keys (owners, admins and developers may).",
            status=403,
        )
    rank = {role: index for index, role in enumerate(ROLE_PREFERENCE)}
    return min(allowed, key=lambda m: (rank.get(m.role, len(rank)), m.created_at, m.pk))


@method_decorator(sensitive_post_parameters("password", "otp"), name="dispatch")
class KeysLogin(ApiView):
    """`POST /v1/keys`: a login, so no secret key. Rate-limited per client address."""

    authentication_classes = []
    permission_classes = []

    def initial(self, request, *args, **kwargs):
        # ApiView enforces a verdict taken before it; this route has no key, so the bucket is the address's.
        request.rate_limit = ratelimit.take("login:" + (client_ip(request) or ""))
        super().initial(request, *args, **kwargs)

    @extend_schema(
        auth=[],
        request={"application/json": KeysLoginSerializer},
        responses=schema.keys_login_responses("New secret keys, shown only in this answer."),
        description=schema.KEYS_LOGIN_DESCRIPTION,
        examples=schema.KEYS_LOGIN_EXAMPLES[:3],
    )
    @api_operation(
        "keys_create",
        "account and keys",
        "Get secret keys with an email and password",
        schema.SecretKeys,
        status=201,
        errors=(400, 401, 403, 413, 429),
    )
    @sensitive_variables("data", "password", "code", "test_key", "live_key")
    def post(self, request):
        data = KeysLoginSerializer.check(self.json_body(), {})
        http_request = request._request  # axes records and locks on Django's request
        email = data["email"].strip().lower()  # one spelling per person, as the dashboard login
        password = data["password"]
        user = None
        if plugin_passwords.looks_like_plugin_password(password):
            # A plugin password stands for the password and the code of a user with two-factor
            # authentication. Tried first, after the lockout; if it is not one, the same password goes
            # to authenticate() below, which counts the failure, so failures count exactly once.
            if _is_locked_out(http_request, email):
                raise _locked_out(http_request)
            user = plugin_passwords.authenticate(email, password)
        by_plugin_password = user is not None
        if user is None:
            user = authenticate(http_request, username=email, password=password)
        if user is None:
            if getattr(http_request, "axes_locked_out", False):
                raise _locked_out(http_request)
            raise _login_error("invalid_credentials", "The email or the password is not correct.")
        if not by_plugin_password and user_has_device(user, confirmed=True):
            code = data.get("otp") or ""
            if not code.strip():
                raise _login_error(
                    "otp_required",
                    "This user has two-factor authentication: send the current code of the authenticator app "
                    "(or a backup code) in `otp`, or send as `password` a plugin password made on the dashboard's "
                    "security page.",
                )
            device, throttled = verify_second_factor(user, code)
            if device is None:
                message = (
                    "Too many wrong codes: wait a moment, then send a new code in `otp`."
                    if throttled
                    else "otp: the one-time code is not correct."
                )
                raise _login_error("invalid_otp", message)
        membership = _choose_membership(user, data.get("account"))
        merchant = membership.merchant
        if merchant.status == Merchant.Status.SUSPENDED:
            raise _login_error("account_suspended", "This account is suspended.", status=403)
        actor = Actor.from_request(http_request, user=user)
        with transaction.atomic():
            test_key = create_plugin_key(merchant, is_live=False, user=user, actor=actor)
            live_key = (
                create_plugin_key(merchant, is_live=True, user=user, actor=actor) if merchant.live_enabled else None
            )
        if settings.AXES_ENABLED and settings.AXES_RESET_ON_SUCCESS:
            # As the dashboard's successful login does: this email's failures from this address are forgotten.
            axes_utils.reset(ip=getattr(http_request, "axes_ip_address", None) or client_ip(request), username=email)
        response = Response({"secret_keys": {"test": test_key, "live": live_key}}, status=201)
        response["Cache-Control"] = "no-store"
        return response
