"""Turning TOTP two-factor authentication on and off, backup codes, password change."""

from base64 import b32encode

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.models import AuditLog
from tests import factories
from tests.csp import assert_no_inline_script_or_style
from tests.merchants.helpers import backup_codes, current_code, totp_device

pytestmark = pytest.mark.django_db

URL = "/account/security/"


@pytest.fixture
def alice_with_2fa(alice_client, alice):
    """Alice with a confirmed device, verified in her session."""
    device = totp_device(alice)
    session = alice_client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    backup_codes(alice)
    return device


def pending_device(user):
    return TOTPDevice.objects.get(user=user, confirmed=False)


def test_the_page_shows_a_qr_code_and_the_secret_of_an_unconfirmed_device(alice_client, alice):
    response = alice_client.get(URL)

    device = pending_device(alice)
    content = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in content and 'class="qr-code"' in content
    secret = b32encode(device.bin_key).decode()
    assert secret[:4] + " " + secret[4:8] in content
    assert 'autocomplete="one-time-code"' in content


def test_reloading_keeps_the_same_secret(alice_client, alice):
    alice_client.get(URL)
    first = pending_device(alice).key

    alice_client.get(URL)

    assert pending_device(alice).key == first


def test_the_page_has_no_inline_script_or_style(alice_client):
    content = alice_client.get(URL).content.decode()

    assert_no_inline_script_or_style(content)


def test_a_valid_code_turns_two_factor_on(alice_client, alice, merchant_a):
    alice_client.get(URL)
    device = pending_device(alice)

    response = alice_client.post(URL, {"action": "enable", "code": current_code(device)})

    device.refresh_from_db()
    assert device.confirmed
    assert response.status_code == 200
    assert StaticToken.objects.filter(device__user=alice).count() == 10
    for token in StaticToken.objects.filter(device__user=alice):
        assert f"{token.token[:4]}-{token.token[4:]}" in response.content.decode()
    entry = AuditLog.objects.get(action="security.two_factor_enabled")
    assert entry.merchant == merchant_a
    assert entry.actor == alice


def test_turning_it_on_keeps_the_session_verified(alice_client, alice):
    alice_client.get(URL)
    alice_client.post(URL, {"action": "enable", "code": current_code(pending_device(alice))})

    assert alice_client.get(reverse("dashboard:home")).status_code == 200


def test_it_unlocks_the_owner_step_of_the_live_checklist(alice_client, alice, merchant_a):
    alice_client.get(URL)
    alice_client.post(URL, {"action": "enable", "code": current_code(pending_device(alice))})

    assert merchant_a.admins_without_two_factor() == []


def test_a_wrong_code_leaves_two_factor_off(alice_client, alice):
    alice_client.get(URL)
    device = pending_device(alice)
    wrong = f"{(int(current_code(device)) + 1) % 1000000:06d}"

    response = alice_client.post(URL, {"action": "enable", "code": wrong})

    assert response.status_code == 200
    assert "This code is not valid" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=alice, confirmed=True).exists()
    assert not StaticDevice.objects.filter(user=alice).exists()
    assert not AuditLog.objects.filter(action="security.two_factor_enabled").exists()


def test_a_code_of_the_wrong_shape_is_refused(alice_client, alice):
    alice_client.get(URL)

    response = alice_client.post(URL, {"action": "enable", "code": "12ab"})

    assert "Enter the 6 digits" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=alice, confirmed=True).exists()


def test_the_password_turns_two_factor_off(alice_client, alice, alice_with_2fa, merchant_a):
    response = alice_client.post(URL, {"action": "disable", "password": factories.PASSWORD})

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=alice).exists()
    assert not StaticDevice.objects.filter(user=alice).exists()
    entry = AuditLog.objects.get(action="security.two_factor_disabled")
    assert entry.merchant == merchant_a


def test_a_current_code_turns_two_factor_off(alice_client, alice, alice_with_2fa):
    response = alice_client.post(URL, {"action": "disable", "code": current_code(alice_with_2fa)})

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=alice).exists()


def test_turning_off_needs_a_code_or_the_password(alice_client, alice, alice_with_2fa):
    response = alice_client.post(URL, {"action": "disable"})

    assert "Enter a code or your password." in response.content.decode()
    assert TOTPDevice.objects.filter(user=alice, confirmed=True).exists()
    assert not AuditLog.objects.filter(action="security.two_factor_disabled").exists()


def test_a_wrong_password_does_not_turn_it_off(alice_client, alice, alice_with_2fa):
    response = alice_client.post(URL, {"action": "disable", "password": "not-my-password"})

    assert "The password is not correct." in response.content.decode()
    assert TOTPDevice.objects.filter(user=alice, confirmed=True).exists()
    assert StaticToken.objects.filter(device__user=alice).count() == 2


def test_a_wrong_code_does_not_turn_it_off(alice_client, alice, alice_with_2fa):
    response = alice_client.post(URL, {"action": "disable", "code": "000000"})

    assert "This code is not valid" in response.content.decode()
    assert TOTPDevice.objects.filter(user=alice, confirmed=True).exists()


def test_new_backup_codes_replace_the_old_ones(alice_client, alice, alice_with_2fa):
    old = set(StaticToken.objects.filter(device__user=alice).values_list("token", flat=True))

    response = alice_client.post(URL, {"action": "backup_codes"})

    new = set(StaticToken.objects.filter(device__user=alice).values_list("token", flat=True))
    assert len(new) == 10
    assert not old & new
    assert "they will not be shown again" in response.content.decode()


def test_backup_codes_need_two_factor_on(alice_client, alice):
    alice_client.post(URL, {"action": "backup_codes"})

    assert not StaticToken.objects.filter(device__user=alice).exists()


def test_the_page_needs_the_second_factor_of_a_user_who_has_one(alice_client, alice):
    totp_device(alice)

    response = alice_client.get(URL)

    assert response.url.startswith(reverse("login_otp"))


def test_the_page_needs_a_login(client):
    assert client.get(URL).url.startswith(reverse("login"))


def test_the_password_can_be_changed(alice_client, alice):
    response = alice_client.post(
        URL,
        {
            "action": "password",
            "old_password": factories.PASSWORD,
            "new_password1": "violet-anchor-meadow-77",
            "new_password2": "violet-anchor-meadow-77",
        },
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("violet-anchor-meadow-77")
    # The session survives its own password change.
    assert alice_client.get(reverse("dashboard:home")).status_code == 200


def test_the_old_password_is_required_to_change_it(alice_client, alice):
    response = alice_client.post(
        URL,
        {
            "action": "password",
            "old_password": "wrong",
            "new_password1": "violet-anchor-meadow-77",
            "new_password2": "violet-anchor-meadow-77",
        },
    )

    assert 'id="id_old_password_error"' in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(factories.PASSWORD)


def test_a_weak_new_password_is_refused(alice_client, alice):
    alice_client.post(
        URL,
        {"action": "password", "old_password": factories.PASSWORD, "new_password1": "123", "new_password2": "123"},
    )

    alice.refresh_from_db()
    assert alice.check_password(factories.PASSWORD)


def test_repeated_wrong_codes_are_throttled_while_setting_up(alice_client, alice):
    alice_client.get(URL)
    device = pending_device(alice)
    alice_client.post(URL, {"action": "enable", "code": "000000"})

    response = alice_client.post(URL, {"action": "enable", "code": current_code(device)})

    assert "Too many wrong codes" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=alice, confirmed=True).exists()
