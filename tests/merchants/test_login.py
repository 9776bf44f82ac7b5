"""Login: email and password, brute-force lockout (django-axes), then the second factor."""

import time

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from merchants.views.accounts import PENDING_LOGIN_SESSION
from tests.merchants.helpers import backup_codes, current_code, post_login, totp_device

pytestmark = pytest.mark.django_db


def logged_in_user_id(client):
    return client.session.get("_auth_user_id")


def test_it_logs_in_with_email_and_password(client, alice, merchant_a):
    response = post_login(client, "alice@example.org")

    assert response.status_code == 302
    assert response.url == reverse("dashboard:home")
    assert int(logged_in_user_id(client)) == alice.pk


def test_the_email_is_not_case_sensitive(client, alice):
    post_login(client, "  ALICE@example.org ")

    assert int(logged_in_user_id(client)) == alice.pk


def test_a_wrong_password_is_refused(client, alice):
    response = post_login(client, "alice@example.org", "wrong-password")

    assert response.status_code == 200
    assert "The email or the password is not correct." in response.content.decode()
    assert logged_in_user_id(client) is None


def test_the_form_fields_are_email_and_current_password(client):
    content = client.get(reverse("login")).content.decode()

    assert 'name="username"' in content
    assert 'type="email"' in content
    assert 'autocomplete="email"' in content
    assert 'autocomplete="current-password"' in content
    assert ">Email" in content


def test_it_follows_a_local_next_url(client, alice, merchant_a):
    response = post_login(client, "alice@example.org", next="/dashboard/settings/")

    assert response.url == "/dashboard/settings/"


def test_it_ignores_an_external_next_url(client, alice, merchant_a):
    response = post_login(client, "alice@example.org", next="https://evil.example.com/")

    assert response.url == reverse("dashboard:home")


def test_it_locks_the_account_out_after_five_failures(client, alice):
    for _ in range(4):
        assert post_login(client, "alice@example.org", "wrong-password").status_code == 200

    response = post_login(client, "alice@example.org", "wrong-password")

    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    assert "Too many failed attempts" in response.content.decode()
    assert AccessAttempt.objects.get(username="alice@example.org").failures_since_start == 5


def test_a_locked_out_account_refuses_even_the_right_password(client, alice):
    for _ in range(5):
        post_login(client, "alice@example.org", "wrong-password")

    response = post_login(client, "alice@example.org")

    assert response.status_code == 429
    assert logged_in_user_id(client) is None


def test_failures_in_another_case_count_together(client, alice):
    for spelling in ["alice@example.org", "Alice@example.org", "ALICE@EXAMPLE.ORG", "alice@Example.org"]:
        post_login(client, spelling, "wrong-password")

    response = post_login(client, "aLiCe@example.org", "wrong-password")

    assert response.status_code == 429


def test_the_lockout_page_says_how_long_it_lasts(client, alice):
    for _ in range(5):
        response = post_login(client, "alice@example.org", "wrong-password")

    assert "30 minutes" in response.content.decode()


def test_the_lockout_page_follows_the_language(client, alice):
    for _ in range(5):
        response = post_login(client, "alice@example.org", "wrong-password", headers={"accept-language": "fr"})

    assert response.status_code == 429
    assert '<html lang="fr">' in response.content.decode()


def test_a_successful_login_resets_the_failure_count(client, alice, merchant_a):
    for _ in range(3):
        post_login(client, "alice@example.org", "wrong-password")

    post_login(client, "alice@example.org")

    assert not AccessAttempt.objects.filter(username="alice@example.org").exists()


def test_an_inactive_user_cannot_log_in(client, alice):
    alice.is_active = False
    alice.save()

    response = post_login(client, "alice@example.org")

    assert response.status_code == 200
    assert logged_in_user_id(client) is None


# --- the second factor -----------------------------------------------------------------------


def test_a_user_with_two_factor_is_asked_for_a_code_and_not_logged_in_yet(client, alice, merchant_a):
    totp_device(alice)

    response = post_login(client, "alice@example.org")

    assert response.url == reverse("login_otp")
    assert logged_in_user_id(client) is None
    assert client.get(reverse("dashboard:home")).status_code == 302


def test_a_valid_code_completes_the_login(client, alice, merchant_a):
    device = totp_device(alice)
    post_login(client, "alice@example.org", next="/dashboard/settings/")

    response = client.post(reverse("login_otp"), {"code": current_code(device)})

    assert response.url == "/dashboard/settings/"
    assert int(logged_in_user_id(client)) == alice.pk
    assert client.get(reverse("dashboard:home")).status_code == 200


def test_a_wrong_code_is_refused(client, alice, merchant_a):
    device = totp_device(alice)
    post_login(client, "alice@example.org")
    wrong = f"{(int(current_code(device)) + 1) % 1000000:06d}"

    response = client.post(reverse("login_otp"), {"code": wrong})

    assert response.status_code == 200
    assert "This code is not valid" in response.content.decode()
    assert logged_in_user_id(client) is None
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


def test_repeated_wrong_codes_are_throttled(client, alice, merchant_a):
    device = totp_device(alice)
    post_login(client, "alice@example.org")
    client.post(reverse("login_otp"), {"code": "000000"})

    response = client.post(reverse("login_otp"), {"code": current_code(device)})

    assert "Too many wrong codes" in response.content.decode()
    assert logged_in_user_id(client) is None


def test_a_code_cannot_be_used_twice(client, alice, merchant_a):
    device = totp_device(alice)
    code = current_code(device)
    post_login(client, "alice@example.org")
    client.post(reverse("login_otp"), {"code": code})
    client.post(reverse("logout"))
    post_login(client, "alice@example.org")

    response = client.post(reverse("login_otp"), {"code": code})

    assert response.status_code == 200
    assert logged_in_user_id(client) is None


def test_a_backup_code_works_once(client, alice, merchant_a):
    totp_device(alice)
    code, _other = backup_codes(alice)
    post_login(client, "alice@example.org")

    response = client.post(reverse("login_otp"), {"code": "AAAA-BBBB"})

    assert response.status_code == 302
    assert int(logged_in_user_id(client)) == alice.pk
    assert not alice.staticdevice_set.get().token_set.filter(token=code).exists()


def test_the_code_page_without_a_password_step_goes_back_to_login(client):
    response = client.get(reverse("login_otp"))

    assert response.url == reverse("login")


def test_the_password_step_expires(client, alice, merchant_a):
    device = totp_device(alice)
    post_login(client, "alice@example.org")
    session = client.session
    session[PENDING_LOGIN_SESSION]["at"] = int(time.time()) - 3600
    session.save()

    response = client.post(reverse("login_otp"), {"code": current_code(device)})

    assert response.url == reverse("login")
    assert logged_in_user_id(client) is None


def test_the_code_field_asks_for_a_one_time_code(client, alice):
    totp_device(alice)
    post_login(client, "alice@example.org")

    content = client.get(reverse("login_otp")).content.decode()

    assert 'autocomplete="one-time-code"' in content


def test_a_session_opened_before_two_factor_must_verify_a_code(client, alice, merchant_a):
    device = totp_device(alice)
    client.force_login(alice)

    response = client.get(reverse("dashboard:home"))
    assert response.url.startswith(reverse("login_otp"))
    client.post(reverse("login_otp"), {"code": current_code(device)})

    assert client.get(reverse("dashboard:home")).status_code == 200


# --- logout ----------------------------------------------------------------------------------


def test_logout_refuses_get(alice_client):
    response = alice_client.get(reverse("logout"))

    assert response.status_code == 405
    assert logged_in_user_id(alice_client) is not None


def test_logout_ends_the_session(alice_client):
    response = alice_client.post(reverse("logout"))

    assert response.url == reverse("login")
    assert logged_in_user_id(alice_client) is None
