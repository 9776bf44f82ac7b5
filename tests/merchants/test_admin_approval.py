"""Platform staff approve merchants for live mode with the Django admin action.

The admin requires a verified second factor (tests/merchants/test_admin_otp.py): staff log in with
their TOTP device here."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from merchants.models import ApiKey, AuditLog, Merchant, User
from tests import factories
from tests.merchants.helpers import login_verified, totp_device

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:merchants_merchant_changelist")


@pytest.fixture
def staff_client(client):
    staff = User.objects.create_superuser("staff@platform.test", factories.PASSWORD)
    login_verified(client, staff)
    client.staff = staff
    return client


def approve(client, *merchants):
    return client.post(CHANGELIST, {"action": "approve", "_selected_action": [m.pk for m in merchants]}, follow=True)


def live_publishable_keys(merchant):
    return merchant.api_keys.filter(is_live=True, kind=ApiKey.Kind.PUBLISHABLE)


def test_an_incomplete_profile_is_not_approved(staff_client, merchant_a):
    response = approve(staff_client, merchant_a)

    merchant_a.refresh_from_db()
    assert merchant_a.status == Merchant.Status.ONBOARDING
    assert merchant_a.approved_at is None
    assert not live_publishable_keys(merchant_a).exists()
    assert not AuditLog.objects.filter(action="merchant.approved").exists()
    errors = [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    assert any("the profile is incomplete" in error for error in errors)


def test_a_complete_profile_is_approved_with_a_live_publishable_key(staff_client, alice):
    merchant = factories.merchant("Complete Co", owner=alice, **factories.COMPLETE_PROFILE)

    response = approve(staff_client, merchant)

    merchant.refresh_from_db()
    assert merchant.status == Merchant.Status.APPROVED
    assert merchant.approved_by == staff_client.staff
    assert merchant.approved_at is not None
    assert live_publishable_keys(merchant).count() == 1
    assert live_publishable_keys(merchant).get().publishable_value.startswith("pk_live_")
    assert AuditLog.objects.filter(merchant=merchant, action="merchant.approved").exists()
    assert any("1 merchant(s) approved" in str(m) for m in get_messages(response.wsgi_request))


def test_approving_twice_creates_no_second_key(staff_client, alice):
    merchant = factories.merchant("Complete Co", owner=alice, **factories.COMPLETE_PROFILE)
    approve(staff_client, merchant)

    approve(staff_client, merchant)

    assert live_publishable_keys(merchant).count() == 1


def test_one_incomplete_merchant_does_not_block_the_others(staff_client, merchant_a, alice):
    complete = factories.merchant("Complete Co", owner=alice, **factories.COMPLETE_PROFILE)

    approve(staff_client, merchant_a, complete)

    assert Merchant.objects.get(pk=complete.pk).status == Merchant.Status.APPROVED
    assert Merchant.objects.get(pk=merchant_a.pk).status == Merchant.Status.ONBOARDING


def test_live_mode_opens_once_approved_and_owners_have_two_factor(staff_client, alice):
    merchant = factories.merchant("Complete Co", owner=alice, **factories.COMPLETE_PROFILE)
    approve(staff_client, merchant)
    merchant.refresh_from_db()
    assert not merchant.live_enabled  # the owner has no second factor yet

    totp_device(alice)

    merchant.refresh_from_db()  # live_enabled is a column (live_ready), updated in the database
    assert merchant.live_enabled


def test_a_non_staff_user_cannot_run_the_action(alice_client, alice):
    merchant = factories.merchant("Complete Co", owner=alice, **factories.COMPLETE_PROFILE)

    alice_client.post(CHANGELIST, {"action": "approve", "_selected_action": [merchant.pk]})

    assert Merchant.objects.get(pk=merchant.pk).status == Merchant.Status.ONBOARDING
