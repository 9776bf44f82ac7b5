"""`POST /v1/keys` with a plugin password (addendum §19): a user with two-factor authentication
connects a plugin that sends only `{"email", "password"}` (the PHP SDK's getKeysByLogin) with a
password made in the dashboard, without `otp`. Revoked ones and other users' are refused as wrong
passwords, failures count in django-axes exactly like the account password's, and the lockout
refuses a right plugin password too."""

import logging

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

from merchants.models import AuditLog, Membership, PluginPassword
from merchants.services import plugin_passwords
from merchants.services.audit import Actor
from tests import factories
from tests.merchants.helpers import current_code, post_login, totp_device
from tests.payments.api.test_openapi import Document, load_document
from tests.payments.api.test_plugin_keys import account_of, login, plugin_keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_device(alice, merchant_a):
    return totp_device(alice)


@pytest.fixture
def plugin_password(alice, alice_device):
    """(the row, the password as shown on the security page)."""
    return plugin_passwords.create_plugin_password(alice, "WooCommerce", Actor.system("tests"))


def failures(email="alice@example.org") -> int:
    attempt = AccessAttempt.objects.filter(username=email).first()
    return attempt.failures_since_start if attempt else 0


def wrong_plugin_password(raw: str) -> str:
    return ("b" if raw[0] == "a" else "a") + raw[1:]


# --- a two-factor user with only an email and a password ---------------------------------------------------


def test_a_two_factor_user_gets_keys_with_only_email_and_plugin_password(alice, merchant_a, plugin_password):
    row, raw = plugin_password

    response = login(password=raw)  # exactly the SDK's body: {"email", "password"}

    assert response.status_code == 201, response.content
    assert response.headers["Cache-Control"] == "no-store"
    keys = response.json()["secret_keys"]
    assert keys["live"] is None
    assert account_of(keys["test"]).json()["id"] == merchant_a.public_id
    assert plugin_keys(merchant_a).get().created_by == alice
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_a_live_owner_gets_both_keys_with_a_plugin_password(db):
    owner = factories.user("olivia@example.org")
    shop = factories.live_merchant("Live Shop", owner=owner)  # live mode needs the owner's 2FA
    _row, raw = plugin_passwords.create_plugin_password(owner, "PrestaShop", Actor.system("tests"))

    keys = login("olivia@example.org", password=raw).json()["secret_keys"]

    assert keys["live"].startswith("sk_live_")
    assert account_of(keys["live"]).json()["id"] == shop.public_id


@pytest.mark.parametrize(
    "spelling", [str.upper, lambda raw: raw.replace("-", ""), lambda raw: raw.replace("-", " "), lambda raw: f" {raw} "]
)
def test_case_spaces_and_dashes_do_not_matter(alice, merchant_a, plugin_password, spelling):
    assert login(password=spelling(plugin_password[1])).status_code == 201


def test_the_account_password_alone_still_needs_the_code(alice, merchant_a, plugin_password):
    response = login()

    assert response.status_code == 401 and response.json()["code"] == "otp_required"
    assert "plugin password" in response.json()["message"]


def test_the_account_password_with_the_code_still_works(alice, merchant_a, alice_device, plugin_password):
    assert login(otp=current_code(alice_device)).status_code == 201


def test_a_plugin_password_with_a_wrong_code_is_accepted_as_it_needs_none(alice, merchant_a, plugin_password):
    # The plugin password already stands for the second factor; an `otp` sent along is not looked at.
    assert login(password=plugin_password[1], otp="000000").status_code == 201


def test_the_role_rules_still_apply(alice, merchant_a, plugin_password):
    Membership.objects.filter(user=alice).update(role=Membership.Role.ACCOUNTANT)

    response = login(password=plugin_password[1])

    assert response.status_code == 403 and response.json()["code"] == "insufficient_role"


# --- refused as a wrong password ----------------------------------------------------------------------------


def test_a_revoked_plugin_password_is_refused(alice, merchant_a, plugin_password):
    row, raw = plugin_password
    plugin_passwords.revoke_plugin_password(alice, str(row.pk), Actor.system("tests"))

    response = login(password=raw)

    assert response.status_code == 401 and response.json()["code"] == "invalid_credentials"
    assert failures() == 1
    assert not plugin_keys(merchant_a).exists()


def test_another_user_s_plugin_password_does_not_work_for_this_user(alice, merchant_a, charlie, merchant_b):
    totp_device(alice)
    totp_device(charlie)
    _row, charlies = plugin_passwords.create_plugin_password(charlie, "Charlie's shop", Actor.system("tests"))

    response = login(password=charlies)

    assert response.status_code == 401 and response.json()["code"] == "invalid_credentials"
    assert login("charlie@example.org", password=charlies).status_code == 201  # it is charlie's


def test_a_user_without_two_factor_any_more_cannot_use_one(alice, merchant_a, alice_device, plugin_password):
    alice_device.delete()  # turned off outside the security page, which would also revoke it

    response = login(password=plugin_password[1])

    assert response.status_code == 401 and response.json()["code"] == "invalid_credentials"


def test_an_inactive_user_is_refused(alice, merchant_a, plugin_password):
    alice.is_active = False
    alice.save()

    assert login(password=plugin_password[1]).json()["code"] == "invalid_credentials"


def test_an_account_password_shaped_like_a_plugin_password_still_works(alice, merchant_a):
    alice.set_password("abcd-efgh-ijkl-mnop")
    alice.save()

    assert login(password="abcd-efgh-ijkl-mnop").status_code == 201


# --- the lockout shared with the dashboard ------------------------------------------------------------------


def test_a_wrong_plugin_password_counts_once_like_a_wrong_password(alice, merchant_a, plugin_password):
    login(password=wrong_plugin_password(plugin_password[1]))
    assert failures() == 1

    login(password="wrong-password")
    assert failures() == 2


def test_the_locked_pair_refuses_the_right_plugin_password(alice, merchant_a, plugin_password):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(password=wrong_plugin_password(plugin_password[1])).status_code == 401

    locked = login(password=wrong_plugin_password(plugin_password[1]))
    assert locked.status_code == 429 and locked.json()["code"] == "login_locked"

    refused = login(password=plugin_password[1])

    assert refused.status_code == 429 and refused.json()["code"] == "login_locked"
    assert int(refused.headers["Retry-After"]) == int(settings.AXES_COOLOFF_TIME * 3600)
    assert not plugin_keys(merchant_a).exists()
    assert failures() == settings.AXES_FAILURE_LIMIT
    assert post_login(Client(), "alice@example.org").status_code == 429  # and the dashboard login too


def test_dashboard_failures_lock_the_plugin_password_out_too(client, alice, merchant_a, plugin_password):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "alice@example.org", "wrong-password")

    assert login(password=plugin_password[1]).status_code == 429


def test_a_success_with_a_plugin_password_resets_the_count(alice, merchant_a, plugin_password):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(password="wrong-password")

    assert login(password=plugin_password[1]).status_code == 201
    assert failures() == 0


# --- nothing keeps it -----------------------------------------------------------------------------------------


def test_the_plugin_password_is_never_logged_or_stored(caplog, alice, merchant_a, plugin_password):
    _row, raw = plugin_password
    wrong = wrong_plugin_password(raw)
    caplog.set_level(logging.DEBUG)

    login(password=wrong)
    login(password=raw)

    logged = "\n".join(record.getMessage() + repr(record.__dict__) for record in caplog.records)
    stored = [repr(r.__dict__) for model in (AccessAttempt, AuditLog, PluginPassword) for r in model.objects.all()]
    for secret in (raw, raw.replace("-", ""), wrong, wrong.replace("-", "")):
        assert secret not in logged
        assert not any(secret in text for text in stored)


def test_the_answers_match_the_schema_and_the_document_tells_about_plugin_passwords(alice, merchant_a, plugin_password):
    document = Document(load_document())

    document.check("post", "/v1/keys", login(password=plugin_password[1]))
    document.check("post", "/v1/keys", login(password=wrong_plugin_password(plugin_password[1])))
    operation = document.by_route["/v1/keys", "post"]
    assert "plugin password" in operation["description"]
    assert (
        "plugin password"
        in document.raw["components"]["schemas"]["KeysLoginRequest"]["properties"]["password"]["description"]
    )
