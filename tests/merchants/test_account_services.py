"""merchants.services.accounts: the writes of a user's own account, called by the account views."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db import IntegrityError
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.models import AuditLog, Invitation, Membership
from merchants.services import accounts
from merchants.services.audit import Actor
from tests import factories
from tests.merchants.helpers import backup_codes, current_code, totp_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor(alice):
    return Actor(user=alice, label=alice.email, ip_address="192.0.2.7", user_agent="tests")


def entries(action):
    return list(AuditLog.objects.filter(action=action).order_by("pk"))


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1000000:06d}"


# --- sign-up, email, language -------------------------------------------------------------------------


def test_sign_up_creates_an_unverified_account_in_the_current_language(db):
    user = accounts.sign_up(email="dora@example.org", password=factories.PASSWORD, full_name="Dora", language="it")

    assert user.check_password(factories.PASSWORD)
    assert user.full_name == "Dora"
    assert user.preferred_language == "it"
    assert not user.email_verified


def test_sign_up_from_an_invitation_to_the_same_address_proves_it(merchant_a):
    invitation = Invitation(merchant=merchant_a, email="Dora@Example.org", role=Membership.Role.SUPPORT)

    user = accounts.sign_up(
        email="dora@example.org", password=factories.PASSWORD, full_name="", language="", invitation=invitation
    )

    assert user.email_verified


def test_sign_up_from_an_invitation_to_another_address_does_not(merchant_a):
    invitation = Invitation(merchant=merchant_a, email="someone@example.org", role=Membership.Role.SUPPORT)

    user = accounts.sign_up(
        email="dora@example.org", password=factories.PASSWORD, full_name="", language="", invitation=invitation
    )

    assert not user.email_verified


def test_sign_up_twice_with_one_address_raises_integrity_error(alice):
    with pytest.raises(IntegrityError):
        accounts.sign_up(email=alice.email, password=factories.PASSWORD, full_name="", language="")


def test_the_first_email_confirmation_wins(db):
    user = factories.user("dora@example.org", verified=False)

    assert accounts.confirm_email(user)
    first = user.email_verified_at
    user.refresh_from_db()
    assert user.email_verified_at == first

    assert not accounts.confirm_email(user)
    user.refresh_from_db()
    assert user.email_verified_at == first


def test_confirming_a_stale_instance_keeps_the_stored_time(db):
    user = factories.user("dora@example.org", verified=False)
    stale = type(user).objects.get(pk=user.pk)
    accounts.confirm_email(user)

    assert not accounts.confirm_email(stale)
    assert type(user).objects.get(pk=user.pk).email_verified_at == user.email_verified_at


def test_the_preferred_language_is_saved_once(alice, django_assert_num_queries):
    accounts.set_preferred_language(alice, "es")
    alice.refresh_from_db()
    assert alice.preferred_language == "es"

    with django_assert_num_queries(0):
        accounts.set_preferred_language(alice, "es")


# --- password ---------------------------------------------------------------------------------------------


def test_changing_the_password_saves_it_and_audits_it(alice, merchant_a, actor):
    accounts.change_password(alice, "a-brand-new-passphrase", actor)

    alice.refresh_from_db()
    assert alice.check_password("a-brand-new-passphrase")
    [entry] = entries("security.password_changed")
    assert entry.merchant == merchant_a
    assert entry.actor == alice
    assert entry.ip_address == "192.0.2.7"


def test_a_completed_password_reset_proves_the_address_and_lifts_the_lockout(db):
    user = factories.user("dora@example.org", verified=False)
    AccessAttempt.objects.create(
        username=user.email, ip_address="192.0.2.7", user_agent="x", failures_since_start=5, get_data="", post_data=""
    )

    accounts.password_reset_completed(user, Actor(user=user, label=user.email))

    user.refresh_from_db()
    assert user.email_verified
    assert not AccessAttempt.objects.filter(username=user.email).exists()
    [entry] = entries("security.password_reset")
    assert entry.merchant is None  # no organisation yet
    assert entry.actor == user


# --- second factor -------------------------------------------------------------------------------------


def test_the_pending_device_is_kept_until_confirmed(alice):
    first = accounts.pending_totp_device(alice)

    assert accounts.pending_totp_device(alice) == first
    assert not first.confirmed
    assert not accounts.has_two_factor(alice)


def test_enabling_confirms_the_device_and_gives_backup_codes(alice, merchant_a, actor):
    older = TOTPDevice.objects.create(user=alice, name="authenticator", confirmed=False)
    device = TOTPDevice.objects.create(user=alice, name="authenticator", confirmed=False)
    assert accounts.pending_totp_device(alice) == device  # the newest pending device is the one set up

    confirmed, codes = accounts.enable_two_factor(alice, current_code(device), actor)

    assert confirmed.pk == device.pk
    assert accounts.has_two_factor(alice)
    assert not TOTPDevice.objects.filter(user=alice, confirmed=False).exists()
    assert not TOTPDevice.objects.filter(pk=older.pk).exists()
    assert len(codes) == accounts.BACKUP_CODE_COUNT == accounts.backup_codes_left(alice)
    assert sorted(codes) == sorted(StaticToken.objects.filter(device__user=alice).values_list("token", flat=True))
    [entry] = entries("security.two_factor_enabled")
    assert (entry.merchant, entry.actor, entry.object_type, entry.object_id) == (
        merchant_a,
        alice,
        "user",
        str(alice.pk),
    )


def test_enabling_audits_in_every_organisation_of_the_user(alice, merchant_a, merchant_b, actor):
    Membership.objects.create(user=alice, merchant=merchant_b, role=Membership.Role.SUPPORT)
    device = accounts.pending_totp_device(alice)

    accounts.enable_two_factor(alice, current_code(device), actor)

    assert [entry.merchant for entry in entries("security.two_factor_enabled")] == [merchant_a, merchant_b]


def test_a_wrong_code_is_refused_and_counted_by_the_throttle(alice, actor):
    device = accounts.pending_totp_device(alice)

    with pytest.raises(accounts.CodeRefused) as refused:
        accounts.enable_two_factor(alice, wrong(current_code(device)), actor)

    assert not refused.value.throttled
    device.refresh_from_db()
    assert not device.confirmed
    assert device.throttling_failure_count == 1  # committed, although the service refused
    assert not StaticDevice.objects.filter(user=alice).exists()
    assert not entries("security.two_factor_enabled")


def test_a_throttled_device_refuses_even_the_right_code(alice, actor):
    device = accounts.pending_totp_device(alice)
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=3, throttling_failure_timestamp=timezone.now() - timedelta(seconds=1)
    )

    with pytest.raises(accounts.CodeRefused) as refused:
        accounts.enable_two_factor(alice, current_code(device), actor)

    assert refused.value.throttled
    assert not accounts.has_two_factor(alice)


def test_enabling_without_a_pending_device_is_refused(alice, actor):
    with pytest.raises(accounts.CodeRefused):
        accounts.enable_two_factor(alice, "123456", actor)


def test_disabling_removes_every_device_and_audits(alice, merchant_a, actor):
    totp_device(alice)
    backup_codes(alice)

    accounts.disable_two_factor(alice, actor)

    assert not TOTPDevice.objects.filter(user=alice).exists()
    assert not StaticDevice.objects.filter(user=alice).exists()
    [entry] = entries("security.two_factor_disabled")
    assert entry.merchant == merchant_a


def test_replacing_backup_codes_invalidates_the_old_ones(alice, merchant_a, actor):
    totp_device(alice)
    old = backup_codes(alice)

    codes = accounts.replace_backup_codes(alice, actor)

    tokens = set(StaticToken.objects.filter(device__user=alice).values_list("token", flat=True))
    assert tokens == set(codes)
    assert not tokens & set(old)
    assert StaticDevice.objects.filter(user=alice).count() == 1
    [entry] = entries("security.backup_codes_replaced")
    assert entry.merchant == merchant_a


def test_replacing_backup_codes_is_all_or_nothing(alice, actor, monkeypatch):
    old = backup_codes(alice)

    def broken(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(accounts, "audit", broken)
    with pytest.raises(RuntimeError):
        accounts.replace_backup_codes(alice, actor)

    assert set(StaticToken.objects.filter(device__user=alice).values_list("token", flat=True)) == set(old)
