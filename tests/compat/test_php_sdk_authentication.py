"""The PHP SDK's `Payplug\\Authentication` calls, as they go over the wire, against a live server.

The official PHP SDK (`payplug/payplug-php`) cannot run here (no PHP in the test image), so each
call is replayed over real HTTP exactly as its `Core\\HttpClient` sends it: the same method, URL,
headers (`Accept` and `Content-Type: application/json`, a `PayPlug-PHP` user agent, `Authorization`
and `PayPlug-Version` only on authenticated calls, `PayPlug-Version` empty when no API version is
configured) and body (`json_encode` of the data, or none). The answer is then read the way the SDK
reads it (any 2xx, a JSON body, otherwise an exception by status) and the way the WooCommerce
plugin reads the account (`AccountGateway::format_account_permissions` and the checks of
`Admin/Ajax.php`), key by key, so that a missing key fails here as it would warn there.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.models import Membership
from tests import factories
from tests.merchants.helpers import current_code

USER_AGENT = "PayPlug-PHP/4.0.0 (PHP/8.2.12; curl/8.5.0)"
WOOCOMMERCE_PAYMENT_METHODS = (  # the keys the plugin looks up in `payment_methods`
    "apple_pay",
    "american_express",
    "bancontact",
    "giropay",
    "ideal",
    "mybank",
    "satispay",
    "sofort",
    "wero",
    "bizum",
    "scalapay",
)


class HttpException(Exception):
    """What the SDK raises for a non-2xx answer (`Payplug\\Exception\\HttpException` and subclasses)."""

    def __init__(self, status: int, body: str):
        super().__init__(f"{status}: {body[:200]}")
        self.status = status
        self.error_object = json.loads(body)


class PhpHttpClient:
    """`Payplug\\Core\\HttpClient::request`, as far as the wire goes."""

    def __init__(self, base_url: str, token: str | None = None, api_version: str | None = None):
        self.base_url, self.token, self.api_version = base_url, token, api_version

    def request(self, verb: str, route: str, data: dict | None = None, authenticated: bool = True) -> dict:
        headers = {"Accept": "application/json", "Content-Type": "application/json", "User-Agent": USER_AGENT}
        if authenticated:
            headers["Authorization"] = f"Bearer {self.token or ''}"
            headers["PayPlug-Version"] = self.api_version or ""
        body = json.dumps(data).encode() if data else None  # `if (!empty($data))`: no body otherwise
        request = urllib.request.Request(self.base_url + "/v1" + route, data=body, headers=headers, method=verb)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            raise HttpException(error.code, error.read().decode()) from None
        assert str(status).startswith("2")
        return {"httpResponse": json.loads(text), "httpStatus": status}  # UnexpectedAPIResponse if not JSON


class Authentication:
    """`Payplug\\Authentication`: the five calls the issue names."""

    def __init__(self, base_url: str):
        self.base_url = base_url

    def get_keys_by_login(self, email: str, password: str) -> dict:
        client = PhpHttpClient(self.base_url)
        return client.request("POST", "/keys", {"email": email, "password": password}, authenticated=False)

    def get_account(self, key: str, api_version: str | None = None) -> dict:
        assert key, "ConfigurationException: The Payplug configuration requires a valid token."
        return PhpHttpClient(self.base_url, key, api_version).request("GET", "/account")

    def get_permissions(self, key: str, api_version: str | None = None) -> dict:
        return self.get_account(key, api_version)["httpResponse"]["permissions"]

    def get_permissions_by_login(self, email: str, password: str) -> dict:
        keys = self.get_keys_by_login(email, password)
        return self.get_permissions(keys["httpResponse"]["secret_keys"]["live"], api_version=None)

    def get_publishable_keys(self, key: str, api_version: str | None = None):
        try:
            return PhpHttpClient(self.base_url, key, api_version).request("POST", "/publishable_keys")
        except HttpException:
            return False  # the SDK swallows errors here


def woocommerce_setup(account: dict) -> dict:
    """What the WooCommerce plugin stores from `getAccount` (its `format_account_permissions`)."""
    configuration, permissions = account["configuration"], account["permissions"]
    amounts = {"min": configuration["min_amounts"], "max": configuration["max_amounts"]}
    stored = {
        "company_id": str(account["id"]),
        "company_iso": str(account["country"] or ""),
        "currencies": json.dumps(configuration["currencies"]),
        "payplug": {"enabled": True, "amounts": amounts},
        "installment": {"enabled": permissions["can_create_installment_plan"], "amounts": amounts},
        "deferred": {"enabled": permissions["can_create_deferred_payment"], "amounts": amounts},
        "one_click": {"enabled": permissions["can_save_cards"], "amounts": amounts},
    }
    for name in WOOCOMMERCE_PAYMENT_METHODS:
        method = account.get("payment_methods", {}).get(name) or {}
        if method:
            stored[name] = {"enabled": method["enabled"]}
            if name == "apple_pay":
                stored[name]["allowed_domains"] = json.dumps(method["allowed_domain_names"])
    # Read without a check by the Oney gateway and the admin screens.
    oney = configuration["oney"]
    stored["oney"] = (oney["min_amounts"], oney["max_amounts"], oney["allowed_countries"])
    stored["integrated"] = bool(permissions.get("can_use_integrated_payments"))
    stored["oney_enabled"] = bool(permissions.get("can_use_oney"))
    stored["amex_enabled"] = bool(account["payment_methods"]["american_express"]["enabled"])
    return stored


@pytest.fixture
def auth(base_url) -> Authentication:
    return Authentication(base_url)


@pytest.fixture
def owner_email(merchant) -> str:
    return merchant.memberships.get(role=Membership.Role.OWNER).user.email


def test_get_keys_by_login_then_the_plugin_s_setup(auth, merchant, owner_email):
    keys = auth.get_keys_by_login(owner_email, factories.PASSWORD)

    assert keys["httpStatus"] == 201
    secret_keys = keys["httpResponse"]["secret_keys"]
    assert secret_keys["test"].startswith("sk_test_") and secret_keys["live"] is None
    account = auth.get_account(secret_keys["test"], api_version="2019-08-06")  # what WooCommerce sends
    assert account["httpStatus"] == 200
    assert account["httpResponse"]["object"] == "account" and account["httpResponse"]["is_live"] is False
    stored = woocommerce_setup(account["httpResponse"])
    assert stored["company_id"] == merchant.public_id
    assert stored["currencies"] == '["EUR"]'
    assert stored["installment"]["enabled"] is True  # installment plans are served (addendum §17)
    assert stored["deferred"]["enabled"] is True and stored["one_click"]["enabled"] is True
    assert stored["payplug"]["amounts"] == {"min": {"EUR": 99}, "max": {"EUR": 2000000}}
    assert stored["apple_pay"] == {"enabled": False, "allowed_domains": "[]"}
    assert not (stored["integrated"] or stored["oney_enabled"] or stored["amex_enabled"])


def test_get_permissions(auth, secret_key):
    permissions = auth.get_permissions(secret_key)

    assert permissions["use_live_mode"] is False
    assert permissions["can_save_cards"] is True
    assert permissions["can_create_deferred_payment"] is True
    assert permissions["can_create_installment_plan"] is True
    assert permissions["can_use_oney"] is False


def test_get_publishable_keys(auth, merchant, secret_key):
    answer = auth.get_publishable_keys(secret_key, api_version="2019-08-06")

    assert answer["httpStatus"] == 201
    assert answer["httpResponse"]["publishable_key"] == factories.publishable_key(merchant)


def test_get_publishable_keys_with_a_bad_key_is_false(auth):
    assert auth.get_publishable_keys("sk_test_" + "0" * 32) is False


def test_wrong_credentials_raise_unauthorized_with_the_error_object(auth, owner_email):
    with pytest.raises(HttpException) as raised:
        auth.get_keys_by_login(owner_email, "not-the-password")

    assert raised.value.status == 401
    assert raised.value.error_object["code"] == "invalid_credentials"


def test_get_permissions_by_login_of_a_live_merchant(auth, db):
    live = factories.live_merchant("Live Compat")
    developer = factories.member(live, "dev@example.org", Membership.Role.DEVELOPER)  # no 2FA: password alone

    permissions = auth.get_permissions_by_login(developer.email, factories.PASSWORD)

    assert permissions["use_live_mode"] is True
    assert permissions["can_save_cards"] is False  # live saved cards not enabled for this merchant


def test_get_permissions_by_login_before_live_mode_fails_like_the_sdk(auth, owner_email):
    # The SDK builds a client with the null live key and refuses it before any request.
    with pytest.raises(AssertionError, match="requires a valid token"):
        auth.get_permissions_by_login(owner_email, factories.PASSWORD)


def test_two_factor_users_are_not_let_in_by_the_sdk_s_password_only_call(auth, db):
    live = factories.live_merchant("Live Compat")
    owner = live.memberships.get(role=Membership.Role.OWNER).user

    with pytest.raises(HttpException) as raised:
        auth.get_keys_by_login(owner.email, factories.PASSWORD)
    assert raised.value.status == 401 and raised.value.error_object["code"] == "otp_required"

    # A client that sends the code (our extension) gets both keys.
    device = TOTPDevice.objects.get(user=owner)
    client = PhpHttpClient(auth.base_url)
    body = {"email": owner.email, "password": factories.PASSWORD, "otp": current_code(device)}
    keys = client.request("POST", "/keys", body, authenticated=False)["httpResponse"]["secret_keys"]
    assert keys["live"].startswith("sk_live_")
    assert auth.get_account(keys["live"])["httpResponse"]["is_live"] is True
