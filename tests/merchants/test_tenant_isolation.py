"""A member of merchant B can reach nothing of merchant A's through the dashboard, whatever ids they try.

Cast: alice owns A, charlie owns B. Every refusal is a 404 (the same answer as an id that never
existed) and leaves A's team, invitations, keys and audit log untouched.
"""

import pytest
from django.urls import reverse

from merchants.middleware import SESSION_MERCHANT
from merchants.models import ApiKey, Membership
from merchants.services.audit import Actor
from merchants.services.team import invite_member
from tests import factories

from .helpers_team import key_row, login, snapshot

pytestmark = pytest.mark.django_db

Role = Membership.Role


@pytest.fixture
def bob(merchant_a):
    return factories.member(merchant_a, "bob@example.org", Role.SUPPORT)


@pytest.fixture
def charlie_client(client, charlie, merchant_b):
    return login(client, charlie)


@pytest.fixture
def a_membership(merchant_a, bob):
    return Membership.objects.get(merchant=merchant_a, user=bob)


@pytest.fixture
def a_invitation(merchant_a):
    invitation, _ = invite_member(merchant_a, "invited@example.org", Role.SUPPORT, Actor())
    return invitation


@pytest.fixture
def a_key(merchant_a):
    return key_row(factories.secret_key(merchant_a))


# --- another merchant's ids ------------------------------------------------------------------------


def test_another_merchants_member_page_is_404(charlie_client, a_membership):
    response = charlie_client.get(reverse("dashboard:team_member", args=[a_membership.pk]))

    assert response.status_code == 404


@pytest.mark.parametrize(
    "data", [{"action": "role", "role": Role.ADMIN}, {"action": "remove"}], ids=["change-role", "remove"]
)
def test_another_merchants_member_cannot_be_changed(charlie_client, merchant_a, a_membership, data):
    before = snapshot(merchant_a)

    response = charlie_client.post(reverse("dashboard:team_member", args=[a_membership.pk]), data)

    assert response.status_code == 404
    assert snapshot(merchant_a) == before


def test_another_merchants_invitation_cannot_be_revoked(charlie_client, merchant_a, a_invitation):
    before = snapshot(merchant_a)

    response = charlie_client.post(reverse("dashboard:team_invitation_revoke", args=[a_invitation.pk]))

    assert response.status_code == 404
    assert snapshot(merchant_a) == before


@pytest.mark.parametrize("data", [{"action": "revoke"}, {"action": "roll", "grace_hours": 0}], ids=["revoke", "roll"])
def test_another_merchants_key_cannot_be_touched(charlie_client, merchant_a, a_key, data):
    before = snapshot(merchant_a)

    response = charlie_client.post(reverse("dashboard:api_key", args=[a_key.pk]), data)

    assert response.status_code == 404
    assert snapshot(merchant_a) == before


def test_another_merchants_publishable_key_cannot_be_rolled(charlie_client, merchant_a):
    key = merchant_a.api_keys.get(kind=ApiKey.Kind.PUBLISHABLE)
    before = snapshot(merchant_a)

    response = charlie_client.post(reverse("dashboard:api_key", args=[key.pk]), {"action": "roll", "grace_hours": 0})

    assert response.status_code == 404
    assert snapshot(merchant_a) == before


def test_pages_show_only_the_current_merchants_data(charlie_client, merchant_a, bob, a_invitation, a_key):
    team = charlie_client.get(reverse("dashboard:team")).content.decode()
    developers = charlie_client.get(reverse("dashboard:developers")).content.decode()
    audit = charlie_client.get(reverse("dashboard:audit")).content.decode()

    assert "bob@example.org" not in team
    assert "invited@example.org" not in team
    assert a_key.prefix not in developers
    assert factories.publishable_key(merchant_a) not in developers
    assert "invited@example.org" not in audit
    assert "alice@example.org" not in audit


def test_an_owner_of_another_merchant_gets_404_not_403(charlie_client, a_membership):
    # Even ids the role could act on at home: existence elsewhere is not revealed.
    response = charlie_client.post(reverse("dashboard:team_member", args=[a_membership.pk]), {"action": "remove"})

    assert response.status_code == 404


# --- organisation switcher ----------------------------------------------------------------------------


def test_the_switcher_refuses_an_organisation_the_user_is_not_in(charlie_client, merchant_a, merchant_b):
    response = charlie_client.post(reverse("dashboard:switch_org"), {"merchant": merchant_a.public_id})

    assert response.status_code == 302
    assert charlie_client.session.get(SESSION_MERCHANT) != merchant_a.pk
    assert charlie_client.get(reverse("dashboard:team")).context["dashboard"].merchant == merchant_b


def test_a_forged_session_cannot_reach_another_organisation(client, charlie, merchant_a, merchant_b):
    login(client, charlie, merchant=merchant_a)  # the session names A, charlie is only in B

    response = client.get(reverse("dashboard:team"))

    assert response.context["dashboard"].merchant == merchant_b
    assert "alice@example.org" not in response.content.decode()


@pytest.fixture
def dana(merchant_a, merchant_b):
    """A user in two organisations: support at A, developer at B."""
    person = factories.member(merchant_a, "dana@example.org", Role.SUPPORT)
    Membership.objects.create(user=person, merchant=merchant_b, role=Role.DEVELOPER)
    return person


def test_a_user_in_two_organisations_can_switch_to_the_other(client, dana, merchant_a, merchant_b):
    login(client, dana, merchant=merchant_a)

    client.post(reverse("dashboard:switch_org"), {"merchant": merchant_b.public_id})
    response = client.get(reverse("dashboard:team"))

    assert response.context["dashboard"].merchant == merchant_b
    assert "charlie@example.org" in response.content.decode()
    assert "alice@example.org" not in response.content.decode()


def test_a_user_in_two_organisations_can_switch_back(client, dana, merchant_a, merchant_b):
    login(client, dana, merchant=merchant_b)

    client.post(reverse("dashboard:switch_org"), {"merchant": merchant_a.public_id})
    response = client.get(reverse("dashboard:team"))

    assert response.context["dashboard"].merchant == merchant_a
    assert "alice@example.org" in response.content.decode()


def test_the_role_follows_the_current_organisation(client, dana, merchant_a, merchant_b):
    # support at A cannot see developers; developer at B can
    login(client, dana, merchant=merchant_a)
    assert client.get(reverse("dashboard:developers")).status_code == 403

    client.post(reverse("dashboard:switch_org"), {"merchant": merchant_b.public_id})

    assert client.get(reverse("dashboard:developers")).status_code == 200


def test_ids_of_the_other_organisation_are_404_until_switching(client, merchant_a, merchant_b):
    erin = factories.member(merchant_a, "erin@example.org", Role.DEVELOPER)
    Membership.objects.create(user=erin, merchant=merchant_b, role=Role.DEVELOPER)
    key = key_row(factories.secret_key(merchant_b))
    login(client, erin, merchant=merchant_a)
    before = snapshot(merchant_b)

    refused = client.post(reverse("dashboard:api_key", args=[key.pk]), {"action": "revoke"})

    assert refused.status_code == 404
    assert snapshot(merchant_b) == before
    client.post(reverse("dashboard:switch_org"), {"merchant": merchant_b.public_id})
    assert client.post(reverse("dashboard:api_key", args=[key.pk]), {"action": "revoke"}).status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
