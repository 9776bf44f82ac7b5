"""Passwords for e-commerce plugins on the account security page: made by a user with two-factor
authentication after typing the account password again, shown once, stored hashed, listed with
their last use, revoked; audited. They never log in to the dashboard."""

import math
import re

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client

from merchants.models import AuditLog, PluginPassword
from merchants.services import plugin_passwords
from merchants.services.audit import Actor, describe
from merchants.services.errors import MerchantError
from tests import factories
from tests.csp import assert_no_inline_script_or_style
from tests.merchants.helpers import login_verified, post_login, totp_device

pytestmark = pytest.mark.django_db

URL = "/account/security/"
SHAPE = re.compile(r"\b[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}\b")


@pytest.fixture
def alice_2fa_client(alice_client, alice):
    """Alice with a confirmed authenticator app, verified in her session."""
    login_verified(alice_client, alice)
    return alice_client


def create(client, name="WooCommerce, my shop", password=factories.PASSWORD):
    return client.post(URL, {"action": "plugin_password", "name": name, "password": password})


def shown_password(response) -> str:
    match = re.search(r'id="plugin-password"[^>]*value="([^"]+)"', response.content.decode())
    assert match, "no plugin password on the page"
    return match.group(1)


def make(user, name="Shop"):
    return plugin_passwords.create_plugin_password(user, name, Actor.system("tests"))


# --- creating one ----------------------------------------------------------------------------------


def test_an_owner_with_two_factor_makes_one_and_sees_it_once(alice_2fa_client, alice, merchant_a):
    response = create(alice_2fa_client)

    assert response.status_code == 200
    raw = shown_password(response)
    assert SHAPE.fullmatch(raw)
    content = response.content.decode()
    assert 'readonly value="' + raw in content
    assert 'data-copy-target="plugin-password"' in content  # the copy button fragment
    stored = PluginPassword.objects.get(user=alice)
    assert stored.name == "WooCommerce, my shop" and stored.revoked_at is None and stored.last_used_at is None
    # Stored hashed with Django's hashers, never in clear.
    assert raw not in stored.password_hash and raw.replace("-", "") not in stored.password_hash
    assert check_password(raw.replace("-", ""), stored.password_hash)
    # Shown once: the next visit lists it without the password.
    again = alice_2fa_client.get(URL).content.decode()
    assert raw not in again and raw.replace("-", "") not in again
    assert "WooCommerce, my shop" in again
    assert 'id="plugin-password"' not in again


def test_creating_one_is_audited_without_the_password(alice_2fa_client, alice, merchant_a):
    raw = shown_password(create(alice_2fa_client))

    entry = AuditLog.objects.get(action="security.plugin_password_created")
    assert entry.merchant == merchant_a and entry.actor == alice and entry.ip_address == "127.0.0.1"
    assert entry.data == {"plugin_password": "WooCommerce, my shop"}
    assert raw not in repr(entry.__dict__) and raw.replace("-", "") not in repr(entry.__dict__)
    assert describe(entry)["action"] == "Plugin password created"


def test_the_account_password_is_asked_again(alice_2fa_client, alice, merchant_a):
    response = create(alice_2fa_client, password="wrong-password")

    assert response.status_code == 200
    assert "The password is not correct." in response.content.decode()
    assert 'id="plugin-password"' not in response.content.decode()
    assert not PluginPassword.objects.exists()
    assert not AuditLog.objects.filter(action="security.plugin_password_created").exists()


def test_wrong_account_passwords_on_the_form_count_towards_the_login_lockout(settings, alice_2fa_client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        create(alice_2fa_client, password="wrong-password")

    response = create(alice_2fa_client)  # the right password, but the pair is locked

    assert response.status_code == 200
    assert "Too many wrong passwords" in response.content.decode()
    assert not PluginPassword.objects.exists()


def test_a_name_is_required(alice_2fa_client, alice):
    create(alice_2fa_client, name="   ")

    assert not PluginPassword.objects.exists()


def test_without_two_factor_the_page_offers_none_and_refuses_to_make_one(alice_client, alice, merchant_a):
    page = alice_client.get(URL).content.decode()
    assert "Passwords for e-commerce plugins" in page
    assert 'value="plugin_password"' not in page

    response = create(alice_client)

    assert response.status_code == 302
    assert not PluginPassword.objects.exists()
    with pytest.raises(MerchantError):
        make(alice)


def test_at_most_ten_are_active(alice):
    totp_device(alice)
    for n in range(plugin_passwords.MAX_ACTIVE):
        make(alice, f"Shop {n}")

    with pytest.raises(MerchantError):
        make(alice, "One too many")


def test_the_password_has_at_least_80_random_bits_and_is_new_each_time(alice):
    totp_device(alice)
    raws = {make(alice, f"Shop {n}")[1] for n in range(5)}

    assert len(raws) == 5
    assert all(SHAPE.fullmatch(raw) for raw in raws)
    assert plugin_passwords.SECRET_LENGTH * math.log2(len(plugin_passwords.ALPHABET)) >= 80


# --- the list and revoking ------------------------------------------------------------------------------


def test_the_list_shows_the_last_use(alice_2fa_client, alice):
    row, raw = make(alice, "PrestaShop")
    assert "Never" in alice_2fa_client.get(URL).content.decode()

    assert plugin_passwords.authenticate(alice.email, raw) == alice

    row.refresh_from_db()
    assert row.last_used_at is not None
    page = alice_2fa_client.get(URL).content.decode()
    assert f'id="plugin-password-{row.pk}"' in page
    assert "Never" not in page.split(f'id="plugin-password-{row.pk}"')[1].split("</tr>")[0]


def test_revoking_one_stops_it_and_is_audited(alice_2fa_client, alice, merchant_a):
    row, raw = make(alice, "PrestaShop")
    kept, kept_raw = make(alice, "WooCommerce")

    response = alice_2fa_client.post(URL, {"action": "revoke_plugin_password", "plugin_password": row.pk})

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert plugin_passwords.authenticate(alice.email, raw) is None
    assert plugin_passwords.authenticate(alice.email, kept_raw) == alice
    page = alice_2fa_client.get(URL).content.decode()
    assert f'id="plugin-password-{row.pk}"' not in page and f'id="plugin-password-{kept.pk}"' in page
    entry = AuditLog.objects.get(action="security.plugin_password_revoked")
    assert entry.merchant == merchant_a and entry.actor == alice and entry.data == {"plugin_password": "PrestaShop"}


def test_another_user_s_password_cannot_be_revoked(alice_2fa_client, charlie, merchant_b):
    totp_device(charlie)
    row, _raw = make(charlie)

    alice_2fa_client.post(URL, {"action": "revoke_plugin_password", "plugin_password": row.pk})

    row.refresh_from_db()
    assert row.revoked_at is None
    assert not AuditLog.objects.filter(action="security.plugin_password_revoked").exists()


@pytest.mark.parametrize("value", ["", "abc", "1.5", "12\n", "9" * 40])
def test_a_bad_id_to_revoke_is_ignored(alice_2fa_client, alice, value):
    row, _raw = make(alice)

    response = alice_2fa_client.post(URL, {"action": "revoke_plugin_password", "plugin_password": value})

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is None


def test_turning_two_factor_off_revokes_them(alice_2fa_client, alice, merchant_a):
    row, _raw = make(alice)

    alice_2fa_client.post(URL, {"action": "disable", "password": factories.PASSWORD})

    row.refresh_from_db()
    assert row.revoked_at is not None
    assert AuditLog.objects.filter(action="security.plugin_password_revoked").count() == 1


def test_the_page_has_no_inline_script_or_style(alice_2fa_client, alice):
    make(alice)

    assert_no_inline_script_or_style(create(alice_2fa_client).content.decode())


# --- never a dashboard login ------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", [str.strip, lambda raw: raw.replace("-", "")])
def test_a_plugin_password_never_logs_in_to_the_dashboard(alice, merchant_a, spelling):
    totp_device(alice)
    _row, raw = make(alice)
    client = Client()

    response = post_login(client, alice.email, spelling(raw))

    assert response.status_code == 200  # the login form again, with its error
    assert "_auth_user_id" not in client.session
    assert "pending_login" not in client.session  # not even the password step
