"""Developers page: secret keys shown once and stored hashed, rolling with a grace period, revoking, modes."""

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from merchants.models import ApiKey, AuditLog, Membership
from tests import factories

from .helpers_team import (
    api_status,
    authenticates,
    database_contains,
    key_row,
    login,
    raw_key_in,
    snapshot,
)

pytestmark = pytest.mark.django_db

DEVELOPERS = reverse("dashboard:developers")


def key_url(key):
    return reverse("dashboard:api_key", args=[key.pk])


@pytest.fixture
def owner_client(client, alice, merchant_a):
    return login(client, alice)


@pytest.fixture
def live_merchant(alice):
    return factories.live_merchant("Alice Live", owner=alice)


def create_key(client, name="Shop server"):
    response = client.post(DEVELOPERS, {"name": name})
    assert response.status_code == 200, response
    return response, raw_key_in(response.content.decode())


def roll(client, raw, grace_hours):
    return client.post(key_url(key_row(raw)), {"action": "roll", "grace_hours": grace_hours})


# --- the page ----------------------------------------------------------------------------------


def test_it_lists_secret_keys_by_prefix_and_name(owner_client, merchant_a):
    _, raw = create_key(owner_client, name="Back office")

    body = owner_client.get(DEVELOPERS).content.decode()

    assert key_row(raw).prefix in body
    assert "Back office" in body
    assert raw not in body


def test_it_shows_publishable_keys_in_full(owner_client, merchant_a):
    body = owner_client.get(DEVELOPERS).content.decode()

    assert factories.publishable_key(merchant_a) in body


def test_it_shows_the_api_base_url(owner_client):
    assert f"{settings.PUBLIC_BASE_URL}/v1" in owner_client.get(DEVELOPERS).content.decode()


def test_it_explains_when_live_keys_become_available(owner_client):
    assert "Live keys become available" in owner_client.get(DEVELOPERS).content.decode()


def test_revoked_keys_are_listed_apart_with_their_state(owner_client, merchant_a):
    _, raw = create_key(owner_client)
    owner_client.post(key_url(key_row(raw)), {"action": "revoke"})

    response = owner_client.get(DEVELOPERS)

    assert [key.pk for key in response.context["inactive_keys"]] == [key_row(raw).pk]
    assert response.context["secret_keys"] == []
    assert "Revoked" in response.content.decode()


# --- creating: shown once, stored hashed ---------------------------------------------------------------


def test_a_created_key_is_shown_on_the_response_page(owner_client, merchant_a):
    response, raw = create_key(owner_client)

    assert raw.startswith("sk_test_")
    page = response.content.decode()
    assert f'id="raw-key" class="secret-once raw-key copy-field" type="text" readonly value="{raw}"' in page
    assert "it is shown only once" in response.content.decode()
    assert key_row(raw).merchant == merchant_a
    assert key_row(raw).name == "Shop server"


def test_the_show_once_page_is_never_cached(owner_client):
    response, _ = create_key(owner_client)

    assert "no-store" in response["Cache-Control"]


def test_the_key_is_not_shown_again(owner_client):
    _, raw = create_key(owner_client)

    assert raw not in owner_client.get(DEVELOPERS).content.decode()


def test_only_the_hash_of_the_key_is_stored(owner_client):
    _, raw = create_key(owner_client)

    assert database_contains(raw) == []
    # the scan does see what is stored: the hash, in the keys table
    assert database_contains(key_row(raw).key_hash) == [ApiKey._meta.db_table]


def test_the_key_is_not_kept_in_session_or_messages(owner_client):
    _, raw = create_key(owner_client)

    session = owner_client.session
    assert raw not in str(dict(session.items()))
    messages_cookie = owner_client.cookies.get(CookieStorage.cookie_name)
    if messages_cookie is not None:
        assert raw not in str(CookieStorage(HttpRequest())._decode(messages_cookie.value))
    # and the next page shows no message carrying it
    assert raw not in owner_client.get(DEVELOPERS).content.decode()


def test_a_created_key_authenticates(owner_client):
    _, raw = create_key(owner_client)

    assert authenticates(raw)


def test_creating_a_key_is_audited(owner_client, merchant_a, alice):
    _, raw = create_key(owner_client)

    entry = AuditLog.objects.filter(merchant=merchant_a, action="api_key.created").latest("id")
    assert entry.actor == alice
    assert entry.object_id == key_row(raw).prefix
    assert entry.is_live is False


def test_a_too_long_name_is_refused_next_to_the_field(owner_client, merchant_a):
    before = snapshot(merchant_a)

    response = owner_client.post(DEVELOPERS, {"name": "x" * 61})

    assert response.status_code == 200
    assert response.context["create_form"].errors["name"]
    assert snapshot(merchant_a) == before


def test_a_member_who_cannot_manage_keys_cannot_create_one(client, merchant_a):
    accountant = factories.member(merchant_a, "acc@example.org", Membership.Role.ACCOUNTANT)
    login(client, accountant)
    before = snapshot(merchant_a)

    response = client.post(DEVELOPERS, {"name": "x"})

    assert response.status_code == 403
    assert snapshot(merchant_a) == before


# --- last use ------------------------------------------------------------------------------------------


def test_last_use_is_recorded_and_shown(owner_client):
    _, raw = create_key(owner_client)
    assert key_row(raw).last_used_at is None

    api_status(raw)

    used_at = key_row(raw).last_used_at
    assert used_at is not None
    assert f'datetime="{used_at.isoformat()}"' in owner_client.get(DEVELOPERS).content.decode()


# --- rolling -------------------------------------------------------------------------------------------


def test_rolling_shows_the_new_key_once(owner_client):
    _, old = create_key(owner_client)

    response = roll(owner_client, old, 24)

    assert response.status_code == 200
    new = raw_key_in(response.content.decode())
    assert new != old
    assert "no-store" in response["Cache-Control"]
    assert database_contains(new) == []
    assert key_row(new).name == "Shop server"


def test_the_roll_page_says_until_when_the_old_key_works(owner_client):
    _, old = create_key(owner_client)

    response = roll(owner_client, old, 24)

    expires_at = key_row(old).expires_at
    assert response.context["replaced"].expires_at == expires_at
    assert f'datetime="{expires_at.isoformat()}"' in response.content.decode()


def test_the_roll_page_says_when_the_old_key_stopped_at_once(owner_client):
    _, old = create_key(owner_client)

    response = roll(owner_client, old, 0)

    assert "which no longer works" in response.content.decode()


def test_after_a_roll_with_grace_the_old_key_works_until_expiry(owner_client):
    _, old = create_key(owner_client)
    response = roll(owner_client, old, 1)
    new = raw_key_in(response.content.decode())

    assert authenticates(old)
    assert authenticates(new)
    assert key_row(old).expires_at == pytest.approx(timezone.now() + timedelta(hours=1), abs=timedelta(minutes=1))


def test_after_the_grace_period_the_old_key_is_refused(owner_client):
    _, old = create_key(owner_client)
    new = raw_key_in(roll(owner_client, old, 1).content.decode())

    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(hours=1, minutes=1)):
        assert api_status(old) == 401
        assert authenticates(new)


def test_a_roll_without_grace_stops_the_old_key_at_once(owner_client):
    _, old = create_key(owner_client)

    new = raw_key_in(roll(owner_client, old, 0).content.decode())

    assert api_status(old) == 401
    assert authenticates(new)


def test_a_roll_is_audited(owner_client, merchant_a):
    _, old = create_key(owner_client)
    new = raw_key_in(roll(owner_client, old, 72).content.decode())

    entry = AuditLog.objects.get(merchant=merchant_a, action="api_key.rolled")
    assert entry.object_id == key_row(old).prefix
    assert entry.data == {"replaced_by": key_row(new).prefix, "grace_hours": 72}


def test_a_grace_period_outside_the_choices_is_refused(owner_client, merchant_a):
    _, old = create_key(owner_client)
    before = snapshot(merchant_a)

    response = roll(owner_client, old, 5)

    assert response.status_code == 200
    assert response.context["failed_roll"].errors["grace_hours"]
    assert f'id="key{key_row(old).pk}_grace_hours_error"' in response.content.decode()
    assert snapshot(merchant_a) == before


def test_a_key_already_rolled_cannot_be_rolled_again(owner_client, merchant_a):
    _, old = create_key(owner_client)
    roll(owner_client, old, 1)
    before = snapshot(merchant_a)

    response = roll(owner_client, old, 168)

    assert response.status_code == 200
    assert "This key was already replaced" in response.content.decode()
    assert snapshot(merchant_a) == before


def test_a_revoked_key_cannot_be_rolled(owner_client, merchant_a):
    _, old = create_key(owner_client)
    owner_client.post(key_url(key_row(old)), {"action": "revoke"})
    before = snapshot(merchant_a)

    response = roll(owner_client, old, 24)

    assert response.status_code == 200
    assert "This key is no longer active." in response.content.decode()
    assert snapshot(merchant_a) == before


def test_rolling_a_publishable_key_replaces_it(owner_client, merchant_a):
    old = factories.publishable_key(merchant_a)

    response = owner_client.post(key_url(key_row(old)), {"action": "roll", "grace_hours": 0})

    assert response.status_code == 302
    assert factories.publishable_key(merchant_a) != old
    assert key_row(old).revoked_at is not None


# --- revoking ------------------------------------------------------------------------------------------


def test_revoking_stops_the_key(owner_client):
    _, raw = create_key(owner_client)

    response = owner_client.post(key_url(key_row(raw)), {"action": "revoke"})

    assert response.status_code == 302
    assert key_row(raw).revoked_at is not None
    assert api_status(raw) == 401


def test_revoking_is_audited(owner_client, merchant_a, alice):
    _, raw = create_key(owner_client)

    owner_client.post(key_url(key_row(raw)), {"action": "revoke"})

    entry = AuditLog.objects.get(merchant=merchant_a, action="api_key.revoked")
    assert entry.actor == alice
    assert entry.object_id == key_row(raw).prefix


def test_a_publishable_key_cannot_be_revoked_only_rolled(owner_client, merchant_a):
    key = key_row(factories.publishable_key(merchant_a))
    before = snapshot(merchant_a)

    response = owner_client.post(key_url(key), {"action": "revoke"})

    assert response.status_code == 400
    assert snapshot(merchant_a) == before


def test_key_actions_answer_get_with_405(owner_client):
    _, raw = create_key(owner_client)

    assert owner_client.get(key_url(key_row(raw))).status_code == 405


# --- modes ---------------------------------------------------------------------------------------------


def test_test_mode_lists_no_live_key(client, alice, live_merchant):
    live_raw = factories.secret_key(live_merchant, is_live=True)
    login(client, alice, merchant=live_merchant, live=False)

    response = client.get(DEVELOPERS)

    assert key_row(live_raw).prefix not in response.content.decode()
    assert factories.publishable_key(live_merchant, is_live=True) not in response.content.decode()
    assert all(not key.is_live for key in response.context["secret_keys"] + response.context["publishable_keys"])


def test_live_mode_lists_live_keys_only(client, alice, live_merchant):
    live_raw = factories.secret_key(live_merchant, is_live=True)
    test_raw = factories.secret_key(live_merchant, is_live=False)
    login(client, alice, merchant=live_merchant, live=True)

    response = client.get(DEVELOPERS)

    assert [key.pk for key in response.context["secret_keys"]] == [key_row(live_raw).pk]
    assert key_row(test_raw).prefix not in response.content.decode()
    assert factories.publishable_key(live_merchant, is_live=True) in response.content.decode()


def test_live_mode_creates_a_live_key(client, alice, live_merchant):
    login(client, alice, merchant=live_merchant, live=True)

    _, raw = create_key(client)

    assert raw.startswith("sk_live_")
    assert key_row(raw).is_live
    assert authenticates(raw)


def test_a_live_key_cannot_be_revoked_from_test_mode(client, alice, live_merchant):
    live_raw = factories.secret_key(live_merchant, is_live=True)
    login(client, alice, merchant=live_merchant, live=False)
    before = snapshot(live_merchant)

    response = client.post(key_url(key_row(live_raw)), {"action": "revoke"})

    assert response.status_code == 404
    assert snapshot(live_merchant) == before


def test_a_test_key_cannot_be_rolled_from_live_mode(client, alice, live_merchant):
    test_raw = factories.secret_key(live_merchant, is_live=False)
    login(client, alice, merchant=live_merchant, live=True)
    before = snapshot(live_merchant)

    response = client.post(key_url(key_row(test_raw)), {"action": "roll", "grace_hours": 0})

    assert response.status_code == 404
    assert snapshot(live_merchant) == before


def test_without_live_access_a_live_session_creates_no_live_key(client, alice, merchant_a):
    # given: the session asks for live mode but the merchant is not approved
    login(client, alice, merchant=merchant_a, live=True)

    # when
    _, raw = create_key(client)

    # then: the dashboard stayed in test mode
    assert raw.startswith("sk_test_")
    assert not ApiKey.objects.filter(merchant=merchant_a, is_live=True).exists()
