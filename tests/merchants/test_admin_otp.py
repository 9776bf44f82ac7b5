"""The Django admin requires what the dashboard requires of staff: a verified second factor.

A password alone (even a superuser's) is sent to the admin's login, which asks for an OTP device
and its code; a session verified by the dashboard's own login (/login/ then /login/otp/) works too.
"""

import io

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.admin import OTPAdminSite

from merchants.models import Merchant, User
from tests import factories
from tests.merchants.helpers import backup_codes, current_code, login_verified, post_login, totp_device

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")
LOGIN = reverse("admin:login")
CHANGELIST = reverse("admin:merchants_merchant_changelist")


@pytest.fixture
def staff(db):
    return User.objects.create_superuser("staff@platform.test", factories.PASSWORD)


def admin_login(client, email, device=None, token="", password=factories.PASSWORD, next_url=INDEX):
    data = {"username": email, "password": password, "otp_token": token, "next": next_url}
    if device is not None:
        data["otp_device"] = device.persistent_id
    return client.post(LOGIN, data)


def is_logged_in(client):
    return "_auth_user_id" in client.session


def test_the_admin_site_is_django_otps_site():
    assert isinstance(admin.site._wrapped, OTPAdminSite)
    assert admin.site.name == "admin"


def test_a_staff_session_without_a_second_factor_is_sent_to_the_login(client, staff):
    client.force_login(staff)

    for url in (INDEX, CHANGELIST):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(f"{LOGIN}?next=")


def test_a_staff_session_with_a_device_but_not_verified_is_refused(client, staff):
    totp_device(staff)
    client.force_login(staff)

    assert client.get(CHANGELIST).status_code == 302


def test_a_password_only_session_cannot_run_an_admin_action(client, staff, alice):
    merchant = factories.merchant("Complete Co", owner=alice, **factories.COMPLETE_PROFILE)
    client.force_login(staff)

    client.post(CHANGELIST, {"action": "approve", "_selected_action": [merchant.pk]})

    assert Merchant.objects.get(pk=merchant.pk).status == Merchant.Status.ONBOARDING


def test_a_verified_staff_session_gets_in(client, staff):
    login_verified(client, staff)

    assert client.get(INDEX).status_code == 200
    assert client.get(CHANGELIST).status_code == 200


def test_a_verified_user_who_is_not_staff_is_still_refused(client, alice):
    login_verified(client, alice)

    assert client.get(CHANGELIST).status_code == 302


def test_the_admin_login_asks_for_the_code(client):
    content = client.get(LOGIN).content.decode()

    assert 'name="otp_token"' in content


def test_the_admin_login_refuses_a_password_without_a_code(client, staff):
    totp_device(staff)

    response = admin_login(client, staff.email)

    assert response.status_code == 200
    assert "Please enter your OTP token." in response.content.decode()
    assert not is_logged_in(client)
    # The second round offers the user's devices.
    assert 'name="otp_device"' in response.content.decode()


def test_the_admin_login_refuses_staff_without_any_device(client, staff):
    response = admin_login(client, staff.email, token="123456")

    assert response.status_code == 200
    assert not is_logged_in(client)


def test_the_admin_login_refuses_a_wrong_code(client, staff):
    device = totp_device(staff)
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"

    response = admin_login(client, staff.email, device, wrong)

    assert response.status_code == 200
    assert not is_logged_in(client)


def test_the_admin_login_accepts_the_password_and_a_totp_code(client, staff):
    device = totp_device(staff)

    response = admin_login(client, staff.email, device, current_code(device), next_url=CHANGELIST)

    assert response.status_code == 302
    assert response.url == CHANGELIST
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get(CHANGELIST).status_code == 200


def test_the_admin_login_accepts_a_backup_code(client, staff):
    (code, *_rest) = backup_codes(staff)
    device = staff.staticdevice_set.get()

    response = admin_login(client, staff.email, device, code)

    assert response.status_code == 302
    assert client.get(INDEX).status_code == 200


def test_a_first_superuser_gets_in_with_a_code_from_addstatictoken(client, staff):
    """The bootstrap for staff without a device yet: `manage.py addstatictoken <email>`."""
    out = io.StringIO()
    call_command("addstatictoken", staff.email, stdout=out)
    code = out.getvalue().strip()
    device = staff.staticdevice_set.get()

    admin_login(client, staff.email, device, code)

    assert client.get(INDEX).status_code == 200


def test_another_users_device_does_not_open_the_admin(client, staff, alice):
    device = totp_device(alice)

    admin_login(client, staff.email, device, current_code(device))

    assert not is_logged_in(client)


def test_the_dashboard_login_with_its_second_factor_opens_the_admin(client, staff):
    device = totp_device(staff)
    post_login(client, staff.email)
    client.post(reverse("login_otp"), {"code": current_code(device)})

    assert client.get(CHANGELIST).status_code == 200


def test_every_registered_model_page_still_works(client, staff):
    login_verified(client, staff)

    failures = {}
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        response = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        if response.status_code != 200:
            failures[model._meta.label] = response.status_code
    assert not failures
