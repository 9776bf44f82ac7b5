"""`GET /v1/account` and `POST /v1/publishable_keys` (addendum §18, §19): the account of a secret key, in
its mode, with permissions that tell the truth; the publishable key of that mode."""

import pytest
from django.test import Client

from merchants.models import ApiKey, AuditLog, Merchant
from merchants.services.audit import Actor
from merchants.services.keys import revoke_api_key, roll_api_key
from payments.amounts import MAX_AMOUNT, MIN_AMOUNT
from tests import factories
from tests.payments.api.test_openapi import Document, load_document
from tests.payments.helpers import payment_body
from tests.payments.installments.helpers import plan_body

pytestmark = pytest.mark.django_db

PERMISSION_NAMES = {
    "use_live_mode",
    "can_save_cards",
    "can_create_installment_plan",
    "can_create_deferred_payment",
    "can_use_oney",
    "can_use_integrated_payments",
    "can_use_american_express",
    "can_use_bancontact",
    "can_use_apple_pay",
}


@pytest.fixture
def live_shop(db):
    return factories.live_merchant("Live Shop")


@pytest.fixture
def live_api(live_shop):
    return factories.ApiClient(factories.secret_key(live_shop, is_live=True))


def test_the_account_of_a_test_key(api, merchant_a):
    response = api.get("/v1/account")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == merchant_a.public_id and body["id"].startswith("acct_")
    assert body["object"] == "account"
    assert body["is_live"] is False
    assert body["company_name"] == "Alice Shop"
    assert body["country"] is None  # no profile yet
    assert body["configuration"] == {
        "currencies": ["EUR"],
        "min_amounts": {"EUR": MIN_AMOUNT},
        "max_amounts": {"EUR": MAX_AMOUNT},
        "oney": {"min_amounts": {}, "max_amounts": {}, "allowed_countries": []},
    }
    assert body["permissions"] == {
        "use_live_mode": False,
        "can_save_cards": True,
        "can_create_installment_plan": True,
        "can_create_deferred_payment": True,
        "can_use_oney": False,
        "can_use_integrated_payments": False,
        "can_use_american_express": False,
        "can_use_bancontact": False,
        "can_use_apple_pay": False,
    }
    methods = body["payment_methods"]
    assert methods["apple_pay"] == {"enabled": False, "allowed_domain_names": []}
    assert all(method["enabled"] is False for method in methods.values())
    assert {"american_express", "bancontact", "ideal", "mybank", "satispay"} <= set(methods)


def test_the_account_of_a_live_key(live_api, live_shop):
    body = live_api.get("/v1/account").json()

    assert body["id"] == live_shop.public_id
    assert body["is_live"] is True
    assert body["country"] == "FR"
    assert body["permissions"]["use_live_mode"] is True
    # Saving cards in live mode needs staff to enable it: until then the flag says no.
    assert body["permissions"]["can_save_cards"] is False
    assert set(body["permissions"]) == PERMISSION_NAMES


def test_can_save_cards_in_live_mode_follows_the_merchant_setting(live_api, live_shop):
    Merchant.objects.filter(pk=live_shop.pk).update(live_save_card_enabled=True)

    assert live_api.get("/v1/account").json()["permissions"]["can_save_cards"] is True


def test_can_save_cards_tells_the_truth_about_live_payments(live_api, live_shop):
    """The flag and the payment API agree: false and the live payment with save_card is refused."""
    assert live_api.get("/v1/account").json()["permissions"]["can_save_cards"] is False
    refused = live_api.post("/v1/payments", payment_body(save_card=True))
    assert refused.status_code == 403 and refused.json()["code"] == "feature_not_enabled"


def test_use_live_mode_is_true_on_a_test_key_of_a_live_merchant(live_shop):
    test_api = factories.ApiClient(factories.secret_key(live_shop))

    body = test_api.get("/v1/account").json()

    assert body["is_live"] is False and body["permissions"]["use_live_mode"] is True


def test_the_limits_are_the_merchant_s_own_when_narrower(api, merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(min_amount=500, max_amount=100_000)

    configuration = api.get("/v1/account").json()["configuration"]

    assert configuration["min_amounts"] == {"EUR": 500} and configuration["max_amounts"] == {"EUR": 100_000}


def test_each_key_sees_its_own_merchant(api, api_b, merchant_a, merchant_b):
    assert api.get("/v1/account").json()["id"] == merchant_a.public_id
    assert api_b.get("/v1/account").json()["id"] == merchant_b.public_id
    assert api.get("/v1/account/").json()["id"] == merchant_a.public_id  # trailing slash, never redirected


def test_a_publishable_key_is_refused(merchant_a):
    client = factories.ApiClient(factories.publishable_key(merchant_a))

    for response in (client.get("/v1/account"), client.post("/v1/publishable_keys")):
        assert response.status_code == 403
        assert response.json()["code"] == "publishable_key_not_allowed"


def test_no_key_or_a_bad_key_is_refused(merchant_a):
    anonymous = Client().get("/v1/account")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "authentication_required"
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    bad = factories.ApiClient("sk_test_" + "x" * 32).get("/v1/account")
    assert bad.status_code == 401 and bad.json()["code"] == "invalid_api_key"
    assert Client().post("/v1/publishable_keys").status_code == 401


def test_a_live_key_of_a_merchant_not_live_any_more_is_refused(live_api, live_shop):
    Merchant.objects.filter(pk=live_shop.pk).update(status=Merchant.Status.SUSPENDED)

    response = live_api.get("/v1/account")

    assert response.status_code == 403 and response.json()["code"] == "account_suspended"


def test_other_methods_are_not_allowed(api):
    assert api.post("/v1/account", {}).status_code == 405
    assert api.get("/v1/publishable_keys").status_code == 405


# --- POST /v1/publishable_keys ---------------------------------------------------------------------


def test_the_publishable_key_of_the_test_mode(api, merchant_a):
    response = api.post("/v1/publishable_keys")  # the PHP SDK sends no body

    assert response.status_code == 201
    assert response.json() == {"publishable_key": factories.publishable_key(merchant_a)}
    assert response.json()["publishable_key"].startswith("pk_test_")
    assert api.post("/v1/publishable_keys", {}).json() == response.json()  # the same key, none created
    assert merchant_a.api_keys.filter(kind=ApiKey.Kind.PUBLISHABLE, is_live=False).count() == 1


def test_the_publishable_key_of_the_live_mode(live_api, live_shop):
    response = live_api.post("/v1/publishable_keys")

    assert response.status_code == 201
    key = response.json()["publishable_key"]
    assert key.startswith("pk_live_") and key == factories.publishable_key(live_shop, is_live=True)


def test_a_mode_without_a_publishable_key_gets_one(api, merchant_a):
    for key in merchant_a.api_keys.filter(kind=ApiKey.Kind.PUBLISHABLE):
        revoke_api_key(key, Actor.system("tests"))

    response = api.post("/v1/publishable_keys")

    assert response.status_code == 201
    created = merchant_a.api_keys.filter(kind=ApiKey.Kind.PUBLISHABLE, is_live=False).usable().get()
    assert response.json()["publishable_key"] == created.publishable_value
    assert AuditLog.objects.filter(merchant=merchant_a, action="api_key.created", object_id=created.prefix).exists()


def test_a_rolled_publishable_key_gives_the_new_one(api, merchant_a):
    old = merchant_a.api_keys.get(kind=ApiKey.Kind.PUBLISHABLE, is_live=False)
    new, _raw = roll_api_key(old, Actor.system("tests"), grace_hours=24)

    assert api.post("/v1/publishable_keys").json()["publishable_key"] == new.publishable_value


def test_the_publishable_key_is_the_caller_s_own(api, api_b, merchant_a, merchant_b):
    assert api.post("/v1/publishable_keys").json()["publishable_key"] == factories.publishable_key(merchant_a)
    assert api_b.post("/v1/publishable_keys").json()["publishable_key"] == factories.publishable_key(merchant_b)


def test_the_publishable_keys_body_takes_no_field(api):
    response = api.post("/v1/publishable_keys", {"mode": "live"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request" and list(response.json()["details"]) == ["mode"]


# --- the document says what the views answer ---------------------------------------------------------


def test_the_answers_match_the_schema(api, live_api, merchant_a):
    document = Document(load_document())

    document.check("get", "/v1/account", api.get("/v1/account"))
    document.check("get", "/v1/account", live_api.get("/v1/account"))
    document.check("get", "/v1/account", Client().get("/v1/account"))
    document.check("post", "/v1/publishable_keys", api.post("/v1/publishable_keys"))
    document.check("post", "/v1/publishable_keys", api.post("/v1/publishable_keys", {"x": 1}))


def test_american_express_is_in_the_permissions_once_the_merchant_accepts_it(api, merchant_a):
    body = api.get("/v1/account").json()
    assert body["permissions"]["can_use_american_express"] is False
    assert body["payment_methods"]["american_express"]["enabled"] is False

    Merchant.objects.filter(pk=merchant_a.pk).update(accepts_american_express=True)

    body = api.get("/v1/account").json()
    assert body["permissions"]["can_use_american_express"] is True
    assert body["payment_methods"]["american_express"]["enabled"] is True


def test_can_create_installment_plan_tells_the_truth_in_both_modes(api, live_api, live_shop):
    """True where POST /v1/installment_plans works: test mode, and live once saved cards are enabled."""
    assert api.get("/v1/account").json()["permissions"]["can_create_installment_plan"] is True
    assert live_api.get("/v1/account").json()["permissions"]["can_create_installment_plan"] is False
    refused = live_api.post("/v1/installment_plans", plan_body(live_shop))
    assert refused.status_code == 403 and refused.json()["code"] == "feature_not_enabled"

    Merchant.objects.filter(pk=live_shop.pk).update(live_save_card_enabled=True)

    assert live_api.get("/v1/account").json()["permissions"]["can_create_installment_plan"] is True
