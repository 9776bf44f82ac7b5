"""Live mode is a stored flag (Merchant.live_ready) that every change of its inputs updates at once.

The rule (Merchant.live_mode_rule_holds): staff approval, a complete profile, and a confirmed second
factor (authenticator app or backup codes) for every owner and admin. A live API request reads the
flag from the merchant row loaded with its key, so it costs no more queries than a test request.
"""

import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.admin import MerchantAdmin
from merchants.middleware import SESSION_LIVE
from merchants.models import Membership, Merchant, User
from merchants.services import accounts
from merchants.services.audit import Actor
from merchants.services.organisations import approve_merchant, suspend_merchant, update_profile
from merchants.services.team import accept_invitation, change_role, invite_member, remove_member
from tests import factories
from tests.merchants.helpers import backup_codes, totp_device
from tests.merchants.helpers_team import login, membership

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("tests")


@pytest.fixture
def live(alice):
    """Alice's approved merchant, Alice (its owner) with an authenticator app: live."""
    return factories.live_merchant("Alice Live", owner=alice)


def stored(merchant) -> bool:
    """The flag as stored, checked against the rule computed from scratch."""
    fresh = Merchant.objects.get(pk=merchant.pk)
    assert fresh.live_ready == fresh.live_mode_rule_holds(), "live_ready is stale"
    return fresh.live_enabled


def api_get(raw, path="/v1/payments"):
    return factories.ApiClient(raw).get(path)


# --- the hot path ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/payments", "/v1/no-such-route"])
def test_a_live_request_runs_as_many_queries_as_a_test_request(live, path, django_assert_num_queries):
    test_key = factories.secret_key(live, is_live=False)
    live_key = factories.secret_key(live, is_live=True)
    for raw in (test_key, live_key):  # first use records last_used_at: the same for both
        api_get(raw, path)

    with CaptureQueriesContext(connection) as test_request:
        test_response = api_get(test_key, path)
    with django_assert_num_queries(len(test_request.captured_queries)) as live_request:
        live_response = api_get(live_key, path)

    assert live_response.status_code == test_response.status_code != 403
    sql = " ".join(query["sql"] for query in live_request.captured_queries)
    assert "otp_" not in sql
    assert "merchants_membership" not in sql


def test_a_live_request_reads_the_flag_loaded_with_the_key(live):
    live_key = factories.secret_key(live, is_live=True)
    Merchant.objects.filter(pk=live.pk).update(live_ready=False)

    response = api_get(live_key)

    assert response.status_code == 403
    assert response.json()["code"] == "account_not_live"


def test_a_live_key_stops_working_the_moment_an_owner_turns_two_factor_off(live, alice):
    live_key = factories.secret_key(live, is_live=True)
    assert api_get(live_key).status_code == 200

    accounts.disable_two_factor(alice, ACTOR)

    response = api_get(live_key)
    assert response.status_code == 403
    assert response.json()["code"] == "account_not_live"
    totp_device(alice)
    assert api_get(live_key).status_code == 200


# --- second factors ------------------------------------------------------------------------------------


def test_it_is_on_once_approved_complete_and_owners_have_two_factor(live):
    assert live.live_enabled  # the instance approve_merchant returned
    assert stored(live)


def test_removing_the_owners_authenticator_turns_it_off_and_adding_one_turns_it_on(live, alice):
    TOTPDevice.objects.filter(user=alice).delete()
    assert not stored(live)

    totp_device(alice)
    assert stored(live)


def test_deleting_one_device_object_turns_it_off(live, alice):
    TOTPDevice.objects.get(user=alice).delete()

    assert not stored(live)


def test_backup_codes_alone_are_a_second_factor(live, alice):
    backup_codes(alice)
    TOTPDevice.objects.filter(user=alice).delete()
    assert stored(live)

    StaticDevice.objects.filter(user=alice).delete()
    assert not stored(live)


def test_an_unconfirmed_device_is_not_a_second_factor(live, alice):
    TOTPDevice.objects.filter(user=alice).delete()

    totp_device(alice, confirmed=False)
    assert not stored(live)

    device = TOTPDevice.objects.get(user=alice)
    device.confirmed = True
    device.save()
    assert stored(live)

    device.confirmed = False
    device.save()
    assert not stored(live)


def test_moving_the_device_to_someone_else_turns_it_off(live, alice):
    device = TOTPDevice.objects.get(user=alice)
    device.user = factories.user("elsewhere@example.org")
    device.save()

    assert not stored(live)


def test_a_login_code_check_does_not_recompute(live, alice, django_assert_num_queries):
    device = TOTPDevice.objects.get(user=alice)
    device.last_t = 12345

    with django_assert_num_queries(2):  # what the device was before, then its UPDATE
        device.save()

    assert stored(live)


def test_the_two_factor_services_update_it(live, alice):
    accounts.disable_two_factor(alice, ACTOR)
    assert not stored(live)

    accounts.pending_totp_device(alice)
    assert not stored(live)


def test_a_device_change_updates_every_organisation_the_user_leads(live, alice):
    other = factories.live_merchant("Alice Second", owner=alice)
    as_developer = factories.live_merchant("Someone Else")
    Membership.objects.create(user=alice, merchant=as_developer, role=Membership.Role.DEVELOPER)

    TOTPDevice.objects.filter(user=alice).delete()

    assert not stored(live)
    assert not stored(other)
    assert stored(as_developer)  # a developer's second factor is not required


# --- the team -----------------------------------------------------------------------------------------


def test_a_new_admin_without_two_factor_turns_it_off(live):
    dave = factories.member(live, "dave@example.org", Membership.Role.ADMIN)
    assert not stored(live)

    totp_device(dave)
    assert stored(live)


def test_a_new_developer_without_two_factor_changes_nothing(live):
    factories.member(live, "dave@example.org", Membership.Role.DEVELOPER)

    assert stored(live)


def test_promoting_a_member_without_two_factor_turns_it_off_and_demoting_turns_it_on(live, alice):
    dave = factories.member(live, "dave@example.org", Membership.Role.DEVELOPER)
    actor = Actor(user=alice, label=alice.email)

    change_role(membership(live, dave), Membership.Role.ADMIN, actor)
    assert not stored(live)

    change_role(membership(live, dave), Membership.Role.SUPPORT, actor)
    assert stored(live)


def test_an_admin_joining_from_an_invitation_turns_it_off(live, alice):
    invitation, _token = invite_member(
        live, "erin@example.org", Membership.Role.ADMIN, Actor(user=alice, label=alice.email)
    )
    erin = factories.user("erin@example.org")

    accept_invitation(invitation, erin, Actor(user=erin, label=erin.email))

    assert not stored(live)


def test_removing_the_admin_without_two_factor_turns_it_on(live, alice):
    dave = factories.member(live, "dave@example.org", Membership.Role.ADMIN)
    assert not stored(live)

    remove_member(membership(live, dave), Actor(user=alice, label=alice.email))
    assert stored(live)


def test_deleting_the_account_of_the_admin_without_two_factor_turns_it_on(live):
    dave = factories.member(live, "dave@example.org", Membership.Role.ADMIN)

    User.objects.filter(pk=dave.pk).delete()

    assert stored(live)


# --- approval and profile ------------------------------------------------------------------------------


def test_an_incomplete_profile_turns_it_off_and_completing_it_turns_it_on(live, alice):
    actor = Actor(user=alice, label=alice.email)

    update_profile(live, actor, {"website": ""})  # not a reviewed field: still approved
    assert Merchant.objects.get(pk=live.pk).status == Merchant.Status.APPROVED
    assert not stored(live)

    update_profile(live, actor, {"website": "https://shop.example.org"})
    assert stored(live)


def test_a_company_without_vat_number_is_incomplete(live):
    live.vat_number = ""
    live.save(update_fields=["vat_number"])

    assert not live.live_enabled
    assert not stored(live)


def test_a_reviewed_change_turns_it_off_until_approved_again(live, alice):
    update_profile(live, Actor(user=alice, label=alice.email), {"iban": "FR7630006000011234567890189"})
    assert Merchant.objects.get(pk=live.pk).status == Merchant.Status.PENDING_REVIEW
    assert not stored(live)

    staff = User.objects.get(is_staff=True)
    approved = approve_merchant(live, staff)
    assert approved.live_enabled
    assert stored(live)


def test_suspension_turns_it_off(live):
    suspended = suspend_merchant(live, User.objects.get(is_staff=True))

    assert not suspended.live_enabled
    assert not stored(live)


def test_un_approving_in_the_admin_turns_it_off(live):
    merchant = Merchant.objects.get(pk=live.pk)
    merchant.status = Merchant.Status.PENDING_REVIEW
    merchant.save()

    assert not stored(live)


def test_saving_other_fields_does_not_recompute(live, django_assert_num_queries):
    merchant = Merchant.objects.get(pk=live.pk)
    merchant.brand_color = "#000000"

    with django_assert_num_queries(1):
        merchant.save(update_fields=["brand_color", "updated_at"])


def test_approval_without_two_factor_leaves_it_off_until_the_owner_adds_a_factor(alice):
    merchant = factories.merchant("Complete Co", owner=alice, **factories.COMPLETE_PROFILE)
    staff = User.objects.create_superuser("staff@platform.test", factories.PASSWORD)

    approved = approve_merchant(merchant, staff)
    assert not approved.live_enabled

    backup_codes(alice)
    assert stored(merchant)


def test_the_admin_shows_the_flag_but_does_not_let_staff_edit_it():
    assert "live_ready" in MerchantAdmin.readonly_fields
    assert not Merchant._meta.get_field("live_ready").editable


# --- the dashboard ---------------------------------------------------------------------------------------


def test_the_dashboard_switch_follows_the_flag(client, live, alice):
    login(client, alice, merchant=live)
    client.post(reverse("dashboard:switch_mode"), {"mode": "live"})
    assert client.session[SESSION_LIVE] is True

    factories.member(live, "dave@example.org", Membership.Role.ADMIN)

    client.post(reverse("dashboard:switch_mode"), {"mode": "test"})
    response = client.post(reverse("dashboard:switch_mode"), {"mode": "live"})
    assert response.status_code == 302
    assert client.session[SESSION_LIVE] is False


# --- the data migration -----------------------------------------------------------------------------------


def test_the_migration_computes_the_flag_of_existing_merchants(live, merchant_a, alice):
    migration = importlib.import_module("merchants.migrations.0002_merchant_live_ready")
    not_ready = factories.live_merchant("Lost Factor")
    TOTPDevice.objects.filter(user__memberships__merchant=not_ready).delete()
    Merchant.objects.update(live_ready=False)
    Merchant.objects.filter(pk__in=[merchant_a.pk, not_ready.pk]).update(live_ready=True)

    migration.compute_live_ready(django_apps, type("SchemaEditor", (), {"connection": connection})())

    assert Merchant.objects.get(pk=live.pk).live_ready
    assert not Merchant.objects.get(pk=merchant_a.pk).live_ready
    assert not Merchant.objects.get(pk=not_ready.pk).live_ready
