"""The plugin endpoints (addendum §18, §19): the `Account`, `SecretKeys` and `PublishableKey` components,
the login body, the login's own error responses and the examples."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers

from payments.api.schema.common import COUNTRY_PATTERN, Constant, Pattern, ResponseObject, id_field, set_property
from payments.api.schema.errors import ERRORS, Error, _error_example


class CurrencyAmounts(ResponseObject):
    """Cents per currency (EUR only)."""

    EUR = serializers.IntegerField(min_value=0)


class OneyConfiguration(ResponseObject):
    """Oney is not offered (`can_use_oney` is false): no currency, no country. Read by the WooCommerce plugin."""

    min_amounts = serializers.DictField(child=serializers.IntegerField(), help_text="Always `{}`.")
    max_amounts = serializers.DictField(child=serializers.IntegerField(), help_text="Always `{}`.")
    allowed_countries = serializers.ListField(child=serializers.CharField(), max_length=0, help_text="Always `[]`.")


class AccountConfiguration(ResponseObject):
    currencies = serializers.ListField(child=Constant("EUR", "Currency"))
    min_amounts = CurrencyAmounts(help_text="Smallest payment `amount` accepted (spec §7.2), per currency.")
    max_amounts = CurrencyAmounts(help_text="Largest payment `amount` accepted (spec §7.2), per currency.")
    oney = OneyConfiguration()


class AccountPermissions(ResponseObject):
    """What the account may do in this mode; a flag is true only where the feature works."""

    use_live_mode = serializers.BooleanField(help_text="Live mode is open for this account (approved, 2FA, profile).")
    can_save_cards = serializers.BooleanField(
        help_text="`save_card`/`allow_save_card` work: always in test mode, in live mode once enabled by staff."
    )
    can_create_installment_plan = serializers.BooleanField(help_text="False: installment plans are not served yet.")
    can_create_deferred_payment = serializers.BooleanField(help_text="`authorized_amount` and capture (spec §7.5).")
    can_use_oney = serializers.BooleanField(help_text="False: Oney is not offered.")
    can_use_integrated_payments = serializers.BooleanField(help_text="False: hosted fields are not offered.")
    can_use_american_express = serializers.BooleanField()
    can_use_bancontact = serializers.BooleanField(help_text="False: not offered.")
    can_use_apple_pay = serializers.BooleanField(help_text="False: not offered.")


class PaymentMethodFlag(ResponseObject):
    enabled = serializers.BooleanField()


class ApplePayFlag(ResponseObject):
    enabled = serializers.BooleanField()
    allowed_domain_names = serializers.ListField(child=serializers.CharField())


class AccountPaymentMethods(ResponseObject):
    """The other payment methods the PayPlug plugins look up; none is offered here (spec §14)."""

    american_express = PaymentMethodFlag()
    apple_pay = ApplePayFlag()
    bancontact = PaymentMethodFlag()
    bizum = PaymentMethodFlag()
    giropay = PaymentMethodFlag()
    ideal = PaymentMethodFlag()
    mybank = PaymentMethodFlag()
    satispay = PaymentMethodFlag()
    scalapay = PaymentMethodFlag()
    sofort = PaymentMethodFlag()
    wero = PaymentMethodFlag()


class Account(ResponseObject):
    """The merchant account of a secret key, in the key's mode (addendum §18)."""

    id = id_field("acct")
    object = Constant("account", "AccountObjectType")
    is_live = serializers.BooleanField()
    company_name = serializers.CharField()
    country = Pattern(COUNTRY_PATTERN, allow_null=True, help_text="ISO 3166-1 alpha-2; null until the profile says.")
    configuration = AccountConfiguration()
    permissions = AccountPermissions()
    payment_methods = AccountPaymentMethods()


class SecretKeyPair(ResponseObject):
    test = Pattern("^sk_test_[0-9A-Za-z]{24,}$", help_text="A new test secret key, shown only in this answer.")
    live = Pattern(
        "^sk_live_[0-9A-Za-z]{24,}$",
        allow_null=True,
        help_text="A new live secret key, or null while live mode is not open for the account.",
    )


class SecretKeys(ResponseObject):
    """New secret keys for a plugin (addendum §19)."""

    secret_keys = SecretKeyPair()


class PublishableKey(ResponseObject):
    publishable_key = Pattern("^pk_(test|live)_[0-9A-Za-z]{24,}$")


_FLAGS = {
    "use_live_mode": False,
    "can_save_cards": True,
    "can_create_installment_plan": False,
    "can_create_deferred_payment": True,
    "can_use_oney": False,
    "can_use_integrated_payments": False,
    "can_use_american_express": False,
    "can_use_bancontact": False,
    "can_use_apple_pay": False,
}
_METHODS = {
    name: {"enabled": False}
    for name in (
        "american_express",
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
}

ACCOUNT_EXAMPLES = [
    OpenApiExample(
        "Test mode",
        response_only=True,
        status_codes=["200"],
        value={
            "id": "acct_8XbQ2mLr5TnZp0aVk3Ws7dYh",
            "object": "account",
            "is_live": False,
            "company_name": "Alice Shop",
            "country": "FR",
            "configuration": {
                "currencies": ["EUR"],
                "min_amounts": {"EUR": 99},
                "max_amounts": {"EUR": 2000000},
                "oney": {"min_amounts": {}, "max_amounts": {}, "allowed_countries": []},
            },
            "permissions": _FLAGS,
            "payment_methods": {**_METHODS, "apple_pay": {"enabled": False, "allowed_domain_names": []}},
        },
    )
]

KEYS_LOGIN_EXAMPLES = [
    OpenApiExample(
        "Email and password",
        request_only=True,
        value={"email": "alice@example.org", "password": "correct-horse-battery-staple"},
    ),
    OpenApiExample(
        "With two-factor authentication",
        request_only=True,
        value={"email": "alice@example.org", "password": "correct-horse-battery-staple", "otp": "123456"},
    ),
    OpenApiExample(
        "With a plugin password (two-factor users, password-only plugins)",
        request_only=True,
        value={"email": "alice@example.org", "password": "k3vq-7mzp-t9aw-x2hd"},
    ),
    OpenApiExample(
        "New keys",
        response_only=True,
        status_codes=["201"],
        value={"secret_keys": {"test": "sk_test_4eC39HqLyjWDarjtT1zdp7dc0aVb", "live": None}},
    ),
]

KEYS_LOGIN_DESCRIPTION = (
    "A login, for the PayPlug CMS plugins (the PHP SDK's `Authentication::getKeysByLogin`): no `Authorization` "
    "header, the dashboard user's `email` and `password` in the body.\n\n"
    "* **New keys every time.** Secret keys are stored hashed, so existing ones cannot be shown again: each "
    'successful login creates a test key (and a live key when live mode is open), named "plugin", audited in '
    "the dashboard. At most 3 plugin keys per user and mode stay active: the next login revokes the oldest.\n"
    "* **Two-factor authentication.** A user with an authenticator app must also send `otp`, its current 6-digit "
    "code (or one of the backup codes): without it → 401 `otp_required`, a wrong one → 401 `invalid_otp`. "
    "Or, for plugins that send only an email and a password (the SDK's `getKeysByLogin`), `password` is a "
    '*plugin password* the user made on the dashboard\'s security page ("Passwords for e-commerce plugins": '
    "16 letters and digits such as `abcd-efgh-ijkl-mnop`, shown once, revocable): it stands for the password "
    "and the code, needs no `otp`, and never logs in to the dashboard. A revoked one → 401 "
    "`invalid_credentials`, and its failures count like any wrong password.\n"
    "* **Brute force.** Failures count with the dashboard login's, per email and client address: after "
    "`AXES_FAILURE_LIMIT` failures (5 by default) that pair is refused, right password or not, with 429 "
    "`login_locked` for `AXES_COOLOFF_HOURS` (`Retry-After`). The route is also rate-limited per address.\n"
    "* **Which account.** The user's account where the role may manage API keys (owner, then admin, then "
    "developer; the oldest membership among equals), or the one named by `account` (`acct_...`, our extension).\n"
    "* `Idempotency-Key` is not honoured here (each call is a new login, and keys are never stored in clear)."
)

LOGIN_401 = OpenApiResponse(
    Error,
    "Wrong email or password (`invalid_credentials`); the user has two-factor authentication and `otp` is "
    "missing (`otp_required`) or wrong (`invalid_otp`).",
    examples=[
        _error_example(401, "invalid_credentials", "The email or the password is not correct."),
        _error_example(
            401,
            "otp_required",
            "This user has two-factor authentication: send the current code of the authenticator app "
            "(or a backup code) in `otp`, or send as `password` a plugin password made on the dashboard's "
            "security page.",
        ),
    ],
)
LOGIN_403 = OpenApiResponse(
    Error,
    "Right credentials, but no key for them: the user is in no account (`no_account`), its role may not "
    "manage API keys (`insufficient_role`: support, accountant), or the account is suspended "
    "(`account_suspended`).",
    examples=[
        _error_example(
            403, "insufficient_role", "This user's role may not manage API keys (owners, admins and developers may)."
        )
    ],
)
LOGIN_429 = OpenApiResponse(
    Error,
    "Too many failed logins for this email from this address (`login_locked`), or too many requests from this "
    "address (`rate_limited`); retry after `Retry-After` seconds.",
    examples=[
        _error_example(429, "login_locked", "Too many failed logins for this email from this address: try again later.")
    ],
)


def keys_login_responses(success_description: str) -> dict:
    return {
        201: OpenApiResponse(SecretKeys, success_description, examples=[KEYS_LOGIN_EXAMPLES[-1]]),
        400: ERRORS[400],
        401: LOGIN_401,
        403: LOGIN_403,
        413: ERRORS[413],
        429: LOGIN_429,
    }


def _keys_login(schema, serializer, registry):
    set_property(schema, "email", description="The dashboard user's email (any case; not checked for format).")
    set_property(
        schema,
        "password",
        format="password",
        writeOnly=True,
        description="The dashboard password, or one of the user's plugin passwords (made in the dashboard; "
        "then no `otp` is needed).",
    )
    set_property(
        schema,
        "otp",
        pattern="^[0-9A-Za-z -]*$",
        writeOnly=True,
        description="Required when the user has two-factor authentication and `password` is the dashboard "
        "password: the authenticator app's current 6-digit code, or one of the backup codes.",
    )
    set_property(
        schema,
        "account",
        pattern="^acct_[0-9A-Za-z]+$",
        description="Our extension: the account (`acct_...`) to get keys for, when the user belongs to several.",
    )


def _publishable_key(schema, serializer, registry):
    schema["description"] = "No field: send no body or `{}`."


REQUEST_TWEAKS = {"KeysLoginSerializer": _keys_login, "PublishableKeyCreateSerializer": _publishable_key}
