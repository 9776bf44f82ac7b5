"""`POST /v1/keys` (addendum §19): a plugin's email-and-password login that answers new secret keys.

Locked out like the dashboard login (django-axes, the same failure count), never on a password alone
for a user with two-factor authentication, only for roles that may manage keys, and never logging
or storing the password.
"""

import json
import logging

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.test import Client

from merchants.models import ApiKey, AuditLog, Membership, Merchant
from merchants.services.keys import PLUGIN_KEY_NAME, PLUGIN_KEYS_KEPT
from tests import factories
from tests.merchants.helpers import backup_codes, current_code, post_login, totp_device
from tests.payments.api.test_openapi import Document, load_document

pytestmark = pytest.mark.django_db

URL = "/v1/keys"
PASSWORD = factories.PASSWORD


def login(email="alice@example.org", password=PASSWORD, client=None, headers=None, **fields):
    body = {"email": email, "password": password, **fields}
    return (client or Client()).post(URL, json.dumps(body), content_type="application/json", headers=headers)


def account_of(secret_key):
    return factories.ApiClient(secret_key).get("/v1/account")


@pytest.fixture
def live_owner(db):
    return factories.user("olivia@example.org")


@pytest.fixture
def live_shop(live_owner):
    return factories.live_merchant("Live Shop", owner=live_owner)  # gives olivia a confirmed TOTP device


def plugin_keys(merchant, is_live=False, **filters):
    return ApiKey.objects.filter(
        merchant=merchant, is_live=is_live, kind=ApiKey.Kind.SECRET, name=PLUGIN_KEY_NAME, **filters
    )


# --- success --------------------------------------------------------------------------------------


def test_an_owner_gets_a_new_test_key_and_no_live_key_before_live_mode(alice, merchant_a):
    response = login()

    assert response.status_code == 201
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Cache-Control"] == "no-store"
    keys = response.json()["secret_keys"]
    assert set(keys) == {"test", "live"}
    assert keys["live"] is None
    assert keys["test"].startswith("sk_test_")
    account = account_of(keys["test"])
    assert account.status_code == 200 and account.json()["id"] == merchant_a.public_id
    stored = plugin_keys(merchant_a).get()
    assert stored.key_hash == ApiKey.hash_key(keys["test"]) and keys["test"] not in stored.prefix + stored.key_hash
    assert stored.created_by == alice
    entry = AuditLog.objects.get(merchant=merchant_a, action="api_key.created", object_id=stored.prefix)
    assert entry.actor == alice and entry.ip_address == "127.0.0.1"


def test_the_email_is_matched_in_any_case_and_with_spaces(alice, merchant_a):
    assert login(email="  Alice@Example.ORG ").status_code == 201


def test_a_live_merchant_s_owner_gets_both_keys_with_the_second_factor(live_owner, live_shop):
    device = live_owner.totpdevice_set.get()

    response = login("olivia@example.org", otp=current_code(device))

    assert response.status_code == 201, response.content
    keys = response.json()["secret_keys"]
    assert keys["test"].startswith("sk_test_") and keys["live"].startswith("sk_live_")
    live = account_of(keys["live"]).json()
    assert live["id"] == live_shop.public_id and live["is_live"] is True
    assert live["permissions"]["use_live_mode"] is True
    assert account_of(keys["test"]).json()["is_live"] is False
    assert plugin_keys(live_shop, is_live=True).count() == 1


def test_an_authorization_header_is_ignored(alice, merchant_a):
    response = login(headers={"Authorization": "Bearer sk_test_nonsense"})

    assert response.status_code == 201


def test_an_idempotency_key_is_not_honoured(alice, merchant_a):
    first = login(headers={"Idempotency-Key": "same"})
    second = login(headers={"Idempotency-Key": "same"})

    assert first.status_code == second.status_code == 201
    assert first.json()["secret_keys"]["test"] != second.json()["secret_keys"]["test"]
    assert "Idempotent-Replayed" not in second.headers


# --- a slot of plugin keys, not a pile ----------------------------------------------------------------


def test_logins_keep_only_the_latest_plugin_keys_of_the_user(alice, merchant_a, api_key_a):
    keys = [login().json()["secret_keys"]["test"] for _ in range(PLUGIN_KEYS_KEPT + 2)]

    working = [key for key in keys if account_of(key).status_code == 200]
    assert working == keys[-PLUGIN_KEYS_KEPT:]
    assert plugin_keys(merchant_a).usable().count() == PLUGIN_KEYS_KEPT
    assert AuditLog.objects.filter(merchant=merchant_a, action="api_key.revoked").count() == 2
    assert account_of(api_key_a).status_code == 200  # keys made in the dashboard are never touched


def test_the_sdk_s_get_permissions_by_login_after_get_keys_by_login_keeps_the_stored_keys_working(alice, merchant_a):
    stored = login().json()["secret_keys"]["test"]  # the plugin stores these
    login()  # getPermissionsByLogin logs in again

    assert account_of(stored).status_code == 200


def test_another_user_s_plugin_keys_are_not_rolled(alice, merchant_a):
    factories.member(merchant_a, "dev@example.org", Membership.Role.DEVELOPER)
    alices = login().json()["secret_keys"]["test"]

    for _ in range(PLUGIN_KEYS_KEPT + 1):
        assert login("dev@example.org").status_code == 201

    assert account_of(alices).status_code == 200


def test_live_plugin_keys_are_kept_per_mode(live_owner, live_shop):
    device = live_owner.totpdevice_set.get()
    first = login("olivia@example.org", otp=current_code(device)).json()["secret_keys"]
    device.refresh_from_db()
    device.last_t -= 1  # the next code of the same 30 s window: let the test use it again
    device.save()
    login("olivia@example.org", otp=current_code(device))

    assert account_of(first["live"]).status_code == 200
    assert plugin_keys(live_shop, is_live=True).usable().count() == 2
    assert plugin_keys(live_shop, is_live=False).usable().count() == 2


# --- wrong credentials and the lockout shared with the dashboard -------------------------------------


def test_a_wrong_password_is_refused_with_the_error_object(alice, merchant_a):
    response = login(password="wrong-password")

    assert response.status_code == 401
    body = response.json()
    assert body["object"] == "error" and body["code"] == "invalid_credentials"
    assert body["message"] == "The email or the password is not correct."
    assert body["details"] == {}
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert not plugin_keys(merchant_a).exists()


def test_an_unknown_email_gets_the_same_answer(alice, merchant_a):
    unknown = login(email="nobody@example.org").json()
    wrong = login(password="wrong-password").json()

    assert {k: v for k, v in unknown.items() if k != "request_id"} == {
        k: v for k, v in wrong.items() if k != "request_id"
    }


def test_an_inactive_user_is_refused(alice, merchant_a):
    alice.is_active = False
    alice.save()

    assert login().json()["code"] == "invalid_credentials"


def test_the_pair_is_locked_after_the_failure_limit_and_refuses_the_right_password(alice, merchant_a):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert login(password="wrong-password").status_code == 401

    locked = login(password="wrong-password")

    assert locked.status_code == 429
    assert locked.headers["Content-Type"].startswith("application/json")  # not axes' HTML page
    assert locked.json()["code"] == "login_locked"
    assert int(locked.headers["Retry-After"]) == int(settings.AXES_COOLOFF_TIME * 3600)
    assert AccessAttempt.objects.get(username="alice@example.org").failures_since_start == limit
    refused = login()
    assert refused.status_code == 429 and refused.json()["code"] == "login_locked"
    assert not plugin_keys(merchant_a).exists()
    # The same pair is locked out of the dashboard too.
    assert post_login(Client(), "alice@example.org").status_code == 429


def test_dashboard_failures_count_towards_the_api_lockout(client, alice, merchant_a):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        post_login(client, "alice@example.org", "wrong-password")

    assert login(email="ALICE@example.org", password="wrong-password").status_code == 429


def test_the_lockout_is_per_email(alice, merchant_a, charlie, merchant_b):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(password="wrong-password")

    assert login("charlie@example.org").status_code == 201


def test_a_success_resets_the_failure_count(alice, merchant_a):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(password="wrong-password")

    assert login().status_code == 201
    assert not AccessAttempt.objects.filter(username="alice@example.org").exists()
    assert login(password="wrong-password").status_code == 401  # counting starts again


def test_the_route_is_rate_limited_per_address(settings, alice, merchant_a):
    settings.API_RATE_LIMIT_BURST = 2
    settings.API_RATE_LIMIT_PER_SECOND = 0.001

    statuses = [login(email=f"x{n}@example.org").status_code for n in range(3)]

    assert statuses == [401, 401, 429]
    refused = login()
    assert refused.json()["code"] == "rate_limited" and refused.headers["Retry-After"]


# --- two-factor authentication --------------------------------------------------------------------------


@pytest.fixture
def alice_device(alice, merchant_a):
    return totp_device(alice)


def test_a_user_with_two_factor_gets_nothing_on_a_password_alone(alice_device, merchant_a):
    response = login()

    assert response.status_code == 401
    assert response.json()["code"] == "otp_required"
    assert "otp" in response.json()["message"]
    assert not plugin_keys(merchant_a).exists()


def test_a_wrong_code_is_refused(alice_device, merchant_a):
    wrong = f"{(int(current_code(alice_device)) + 1) % 1_000_000:06d}"

    response = login(otp=wrong)

    assert response.status_code == 401 and response.json()["code"] == "invalid_otp"
    assert not plugin_keys(merchant_a).exists()


def test_an_empty_code_counts_as_missing(alice_device, merchant_a):
    assert login(otp="  ").json()["code"] == "otp_required"


def test_the_right_code_gives_the_keys_once(alice_device, merchant_a):
    code = current_code(alice_device)

    assert login(otp=code).status_code == 201
    assert login(otp=code).json()["code"] == "invalid_otp"  # a code is used once


def test_a_backup_code_works(alice_device, alice, merchant_a):
    codes = backup_codes(alice)

    assert login(otp=codes[0].upper()).status_code == 201


def test_a_wrong_password_with_a_right_code_is_still_invalid_credentials(alice_device, merchant_a):
    response = login(password="wrong-password", otp=current_code(alice_device))

    assert response.json()["code"] == "invalid_credentials"


def test_an_unconfirmed_device_is_not_asked_for(alice, merchant_a):
    totp_device(alice, confirmed=False)

    assert login().status_code == 201


def test_repeated_wrong_codes_are_throttled(alice_device, merchant_a):
    for _ in range(3):
        login(otp="000000" if current_code(alice_device) != "000000" else "111111")

    response = login(otp=current_code(alice_device))

    assert response.status_code == 401 and response.json()["code"] == "invalid_otp"
    assert "Too many wrong codes" in response.json()["message"]


# --- roles and accounts ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Membership.Role.SUPPORT, Membership.Role.ACCOUNTANT])
def test_roles_that_may_not_manage_keys_get_403(merchant_a, role):
    factories.member(merchant_a, "member@example.org", role)

    response = login("member@example.org")

    assert response.status_code == 403 and response.json()["code"] == "insufficient_role"
    assert not ApiKey.objects.filter(merchant=merchant_a, name=PLUGIN_KEY_NAME).exists()


@pytest.mark.parametrize("role", [Membership.Role.ADMIN, Membership.Role.DEVELOPER])
def test_roles_that_may_manage_keys_get_them(merchant_a, role):
    factories.member(merchant_a, "member@example.org", role)

    response = login("member@example.org")

    assert response.status_code == 201
    assert account_of(response.json()["secret_keys"]["test"]).json()["id"] == merchant_a.public_id


def test_a_developer_without_two_factor_gets_the_live_key_too(live_shop):
    factories.member(live_shop, "dev@example.org", Membership.Role.DEVELOPER)

    keys = login("dev@example.org").json()["secret_keys"]

    assert keys["live"].startswith("sk_live_")


def test_a_user_without_an_account_gets_403(db):
    factories.user("lonely@example.org")

    response = login("lonely@example.org")

    assert response.status_code == 403 and response.json()["code"] == "no_account"


def test_a_suspended_account_gets_403(alice, merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(status=Merchant.Status.SUSPENDED)

    response = login()

    assert response.status_code == 403 and response.json()["code"] == "account_suspended"


def test_a_user_of_several_accounts_gets_the_one_where_the_role_is_highest(alice, merchant_a, merchant_b):
    Membership.objects.create(user=alice, merchant=merchant_b, role=Membership.Role.DEVELOPER)
    Membership.objects.filter(user=alice, merchant=merchant_a).update(role=Membership.Role.ADMIN)

    keys = login().json()["secret_keys"]

    assert account_of(keys["test"]).json()["id"] == merchant_a.public_id
    assert not plugin_keys(merchant_b).exists()


def test_the_oldest_membership_wins_among_equal_roles(alice, merchant_a, merchant_b):
    Membership.objects.create(user=alice, merchant=merchant_b, role=Membership.Role.OWNER)

    keys = login().json()["secret_keys"]

    assert account_of(keys["test"]).json()["id"] == merchant_a.public_id


def test_the_account_field_chooses_among_the_user_s_accounts(alice, merchant_a, merchant_b):
    Membership.objects.create(user=alice, merchant=merchant_b, role=Membership.Role.DEVELOPER)

    keys = login(account=merchant_b.public_id).json()["secret_keys"]

    assert account_of(keys["test"]).json()["id"] == merchant_b.public_id
    assert not plugin_keys(merchant_a).exists()


def test_the_account_field_never_reaches_another_s_account(alice, merchant_a, merchant_b):
    response = login(account=merchant_b.public_id)

    assert response.status_code == 400 and response.json()["details"] == {"account": "is not an account of this user."}
    assert not plugin_keys(merchant_b).exists()


def test_the_account_field_follows_the_role_rule(alice, merchant_a, merchant_b):
    Membership.objects.create(user=alice, merchant=merchant_b, role=Membership.Role.ACCOUNTANT)

    response = login(account=merchant_b.public_id)

    assert response.status_code == 403 and response.json()["code"] == "insufficient_role"


# --- bodies ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD}, "email"),
        ({"email": "alice@example.org"}, "password"),
        ({"email": "alice@example.org", "password": 12345}, "password"),
        ({"email": "alice@example.org", "password": PASSWORD, "remember": True}, "remember"),
        ({"email": "alice@example.org", "password": PASSWORD, "otp": "12;34"}, "otp"),
        ({"email": "alice@example.org", "password": PASSWORD, "account": "merchant-a"}, "account"),
    ],
)
def test_bad_bodies_get_400(alice, merchant_a, body, field):
    response = Client().post(URL, json.dumps(body), content_type="application/json")

    assert response.status_code == 400 and field in response.json()["details"]
    assert not AccessAttempt.objects.exists()  # not a login attempt


def test_a_body_that_is_not_json_gets_400(alice):
    response = Client().post(URL, "email=alice@example.org", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400 and response.json()["code"] == "invalid_json"


def test_get_is_not_allowed():
    assert Client().get(URL).status_code == 405


# --- nothing keeps the password ----------------------------------------------------------------------------


def test_the_password_and_the_code_are_never_logged_or_stored(caplog, alice_device, alice, merchant_a):
    secret_password, wrong = PASSWORD, "wrong-password-Zq9"
    caplog.set_level(logging.DEBUG)

    login(password=wrong)
    login()
    code = current_code(alice_device)
    keys = login(otp=code).json()["secret_keys"]

    logged = "\n".join(record.getMessage() + repr(record.__dict__) for record in caplog.records)
    for secret in (secret_password, wrong, code, keys["test"]):
        assert secret not in logged
    stored = [
        repr(row.__dict__) for model in (AccessAttempt, AccessFailureLog, AuditLog) for row in model.objects.all()
    ]
    for secret in (secret_password, wrong, keys["test"]):
        assert not any(secret in row for row in stored)


# --- the document says what the view answers ------------------------------------------------------------------


def test_the_answers_match_the_schema(alice_device, merchant_a, charlie, merchant_b):
    document = Document(load_document())

    document.check("post", URL, login("charlie@example.org"))
    document.check("post", URL, login())  # otp_required
    document.check("post", URL, login(password="nope"))
    document.check("post", URL, login(email=""))
    factories.member(merchant_b, "acc@example.org", Membership.Role.ACCOUNTANT)
    document.check("post", URL, login("acc@example.org"))
    for _ in range(settings.AXES_FAILURE_LIMIT):
        locked = login(password="nope")
    document.check("post", URL, locked)
    operation = document.by_route[URL, "post"]
    assert "security" not in operation or operation["security"] == []
    assert "otp" in document.raw["components"]["schemas"]["KeysLoginRequest"]["properties"]
