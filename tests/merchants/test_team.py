"""Team page: members, invitations by email, role changes, removals and their limits."""

import re

import pytest
from django.conf import settings
from django.core import mail
from django.urls import resolve, reverse

from merchants.models import AuditLog, Invitation, Membership
from merchants.services.audit import Actor
from merchants.services.team import accept_invitation, find_invitation, invite_member, revoke_invitation
from tests import factories

from .helpers_team import USER_AGENT, login, membership, snapshot

pytestmark = pytest.mark.django_db

Role = Membership.Role
TEAM = reverse("dashboard:team")


def member_url(target):
    return reverse("dashboard:team_member", args=[target.pk])


@pytest.fixture
def bob(merchant_a):
    return factories.member(merchant_a, "bob@example.org", Role.SUPPORT)


@pytest.fixture
def admin(merchant_a):
    return factories.member(merchant_a, "adele@example.org", Role.ADMIN)


@pytest.fixture
def owner_client(client, alice, merchant_a):
    return login(client, alice)


@pytest.fixture
def admin_client(client, admin):
    return login(client, admin)


def invite(client, email="newcomer@example.org", role=Role.DEVELOPER):
    return client.post(TEAM, {"email": email, "role": role})


def invitation_link(message) -> str:
    links = re.findall(r"https?://\S+", message.body)
    assert len(links) == 1, message.body
    return links[0]


# --- the page ---------------------------------------------------------------------------------


def test_it_lists_members_with_roles_and_pending_invitations(owner_client, merchant_a, bob):
    # given
    invite_member(merchant_a, "pending@example.org", Role.ACCOUNTANT, Actor.system())
    # when
    response = owner_client.get(TEAM)
    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert "alice@example.org" in body
    assert "bob@example.org" in body
    assert "Support" in body
    assert "pending@example.org" in body
    assert "Accountant" in body


def test_it_hides_revoked_and_expired_invitations(owner_client, merchant_a):
    actor = Actor.system()
    revoked, _ = invite_member(merchant_a, "revoked@example.org", Role.SUPPORT, actor)
    revoke_invitation(revoked, actor)
    expired, _ = invite_member(merchant_a, "expired@example.org", Role.SUPPORT, actor)
    Invitation.objects.filter(pk=expired.pk).update(expires_at=expired.created_at)

    body = owner_client.get(TEAM).content.decode()

    assert "revoked@example.org" not in body
    assert "expired@example.org" not in body


def test_members_without_manage_permission_see_the_team_but_no_invite_form(client, bob):
    response = login(client, bob).get(TEAM)

    assert response.status_code == 200
    assert "alice@example.org" in response.content.decode()
    assert 'name="email"' not in response.content.decode()


def test_the_invite_form_offers_admins_every_role_but_owner(admin_client):
    body = admin_client.get(TEAM).content.decode()

    assert 'value="admin"' in body
    assert 'value="accountant"' in body
    assert 'value="owner"' not in body


def test_the_invite_form_offers_owners_the_owner_role(owner_client):
    assert 'value="owner"' in owner_client.get(TEAM).content.decode()


# --- inviting ----------------------------------------------------------------------------------


def test_invite_creates_a_pending_invitation(owner_client, merchant_a, alice):
    response = invite(owner_client)

    assert response.status_code == 302
    invitation = Invitation.objects.get(merchant=merchant_a)
    assert invitation.email == "newcomer@example.org"
    assert invitation.role == Role.DEVELOPER
    assert invitation.invited_by == alice
    assert invitation.is_pending


def test_invite_sends_an_email_with_an_absolute_link(owner_client, merchant_a):
    invite(owner_client)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["newcomer@example.org"]
    assert "Alice Shop" in message.subject
    link = invitation_link(message)
    assert link.startswith(settings.PUBLIC_BASE_URL + "/")
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert link in html


def test_the_emailed_link_opens_the_invitation(owner_client, merchant_a):
    invite(owner_client)

    link = invitation_link(mail.outbox[0])
    match = resolve(link.removeprefix(settings.PUBLIC_BASE_URL))
    assert match.url_name == "accept_invitation"
    found = find_invitation(match.kwargs["token"])
    assert found == Invitation.objects.get(merchant=merchant_a)


def test_the_emailed_link_lets_the_invited_person_join_with_the_role(owner_client, merchant_a):
    invite(owner_client, role=Role.ACCOUNTANT)
    token = resolve(invitation_link(mail.outbox[0]).removeprefix(settings.PUBLIC_BASE_URL)).kwargs["token"]
    newcomer = factories.user("newcomer@example.org")

    accept_invitation(find_invitation(token), newcomer, Actor.system())

    assert membership(merchant_a, newcomer).role == Role.ACCOUNTANT


def test_the_token_itself_is_not_stored(owner_client, merchant_a):
    invite(owner_client)

    token = resolve(invitation_link(mail.outbox[0]).removeprefix(settings.PUBLIC_BASE_URL)).kwargs["token"]
    invitation = Invitation.objects.get(merchant=merchant_a)
    assert invitation.token_hash != token
    assert not Invitation.objects.filter(token_hash=token).exists()


def test_invite_writes_an_audit_entry_with_who_and_from_where(owner_client, merchant_a, alice):
    invite(owner_client)

    entry = AuditLog.objects.get(merchant=merchant_a, action="team.invited")
    assert entry.actor == alice
    assert entry.actor_label == "alice@example.org"
    assert entry.ip_address == "127.0.0.1"
    assert entry.user_agent == USER_AGENT
    assert entry.data == {"email": "newcomer@example.org", "role": Role.DEVELOPER}


def test_admin_cannot_invite_an_owner(admin_client, merchant_a):
    before = snapshot(merchant_a)

    response = invite(admin_client, role=Role.OWNER)

    assert response.status_code == 200
    assert response.context["invite_form"].errors["role"]
    assert snapshot(merchant_a) == before
    assert mail.outbox == []


def test_admin_can_invite_an_admin(admin_client, merchant_a):
    response = invite(admin_client, role=Role.ADMIN)

    assert response.status_code == 302
    assert Invitation.objects.get(merchant=merchant_a).role == Role.ADMIN


def test_a_member_without_manage_permission_cannot_invite(client, merchant_a, bob):
    login(client, bob)
    before = snapshot(merchant_a)

    response = invite(client)

    assert response.status_code == 403
    assert snapshot(merchant_a) == before
    assert mail.outbox == []


def test_inviting_an_existing_member_shows_the_error_next_to_the_email(owner_client, merchant_a, bob):
    before = snapshot(merchant_a)

    response = invite(owner_client, email="BOB@example.org")

    assert response.status_code == 200
    assert response.context["invite_form"].errors["email"] == ["This person is already a member of the team."]
    assert 'id="id_email_error"' in response.content.decode()
    assert snapshot(merchant_a) == before
    assert mail.outbox == []


def test_an_invalid_email_is_refused_next_to_the_field(owner_client, merchant_a):
    before = snapshot(merchant_a)

    response = invite(owner_client, email="not-an-email")

    assert response.context["invite_form"].errors["email"]
    assert snapshot(merchant_a) == before
    assert mail.outbox == []


def test_inviting_again_replaces_the_earlier_invitation(owner_client, merchant_a):
    invite(owner_client)
    invite(owner_client)

    assert len(mail.outbox) == 2
    pending = [i for i in Invitation.objects.filter(merchant=merchant_a) if i.is_pending]
    assert len(pending) == 1


# --- revoking invitations -----------------------------------------------------------------------


def test_owner_revokes_an_invitation(owner_client, merchant_a, alice):
    invitation, token = invite_member(merchant_a, "x@example.org", Role.SUPPORT, Actor.system())

    response = owner_client.post(reverse("dashboard:team_invitation_revoke", args=[invitation.pk]))

    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert find_invitation(token) is None
    assert AuditLog.objects.get(merchant=merchant_a, action="team.invitation_revoked").actor == alice


def test_admin_cannot_revoke_an_invitation_to_an_owner(admin_client, merchant_a):
    invitation, _ = invite_member(merchant_a, "x@example.org", Role.OWNER, Actor.system())
    before = snapshot(merchant_a)

    response = admin_client.post(reverse("dashboard:team_invitation_revoke", args=[invitation.pk]))

    assert response.status_code == 403
    assert snapshot(merchant_a) == before


# --- changing roles --------------------------------------------------------------------------------


def test_owner_changes_a_members_role(owner_client, merchant_a, bob):
    response = owner_client.post(member_url(membership(merchant_a, bob)), {"action": "role", "role": Role.DEVELOPER})

    assert response.status_code == 302
    assert membership(merchant_a, bob).role == Role.DEVELOPER


def test_a_role_change_is_audited(owner_client, merchant_a, alice, bob):
    owner_client.post(member_url(membership(merchant_a, bob)), {"action": "role", "role": Role.DEVELOPER})

    entry = AuditLog.objects.get(merchant=merchant_a, action="team.role_changed")
    assert entry.actor == alice
    assert entry.data == {"email": "bob@example.org", "previous": Role.SUPPORT, "role": Role.DEVELOPER}
    assert entry.ip_address == "127.0.0.1"


def test_owner_can_make_another_owner(owner_client, merchant_a, bob):
    owner_client.post(member_url(membership(merchant_a, bob)), {"action": "role", "role": Role.OWNER})

    assert membership(merchant_a, bob).role == Role.OWNER


def test_admin_cannot_make_an_owner(admin_client, merchant_a, bob):
    before = snapshot(merchant_a)

    response = admin_client.post(member_url(membership(merchant_a, bob)), {"action": "role", "role": Role.OWNER})

    assert response.status_code == 200
    assert response.context["role_form"].errors["role"]
    assert snapshot(merchant_a) == before


def test_admin_cannot_promote_themselves_to_owner(admin_client, merchant_a, admin):
    before = snapshot(merchant_a)

    admin_client.post(member_url(membership(merchant_a, admin)), {"action": "role", "role": Role.OWNER})

    assert snapshot(merchant_a) == before


def test_admin_cannot_change_an_owners_role(admin_client, merchant_a, alice):
    before = snapshot(merchant_a)

    response = admin_client.post(member_url(membership(merchant_a, alice)), {"action": "role", "role": Role.SUPPORT})

    assert response.status_code == 403
    assert snapshot(merchant_a) == before


def test_admin_is_not_offered_to_change_an_owner(admin_client, merchant_a, alice):
    response = admin_client.get(member_url(membership(merchant_a, alice)))

    assert response.status_code == 200
    assert 'name="role"' not in response.content.decode()
    assert 'value="remove"' not in response.content.decode()


def test_admin_changes_an_admin(admin_client, merchant_a):
    other = factories.member(merchant_a, "other-admin@example.org", Role.ADMIN)

    admin_client.post(member_url(membership(merchant_a, other)), {"action": "role", "role": Role.ACCOUNTANT})

    assert membership(merchant_a, other).role == Role.ACCOUNTANT


def test_the_last_owner_cannot_demote_themselves(owner_client, merchant_a, alice):
    before = snapshot(merchant_a)

    response = owner_client.post(member_url(membership(merchant_a, alice)), {"action": "role", "role": Role.ADMIN})

    assert response.status_code == 200
    assert response.context["role_form"].errors["role"] == ["An organisation needs at least one owner."]
    assert "An organisation needs at least one owner." in response.content.decode()
    assert snapshot(merchant_a) == before


def test_an_owner_can_step_down_when_another_owner_remains(owner_client, merchant_a, alice):
    factories.member(merchant_a, "co-owner@example.org", Role.OWNER)

    owner_client.post(member_url(membership(merchant_a, alice)), {"action": "role", "role": Role.ADMIN})

    assert membership(merchant_a, alice).role == Role.ADMIN


def test_a_member_without_manage_permission_cannot_change_roles(client, merchant_a, bob):
    developer = factories.member(merchant_a, "dev@example.org", Role.DEVELOPER)
    login(client, developer)
    before = snapshot(merchant_a)

    response = client.post(member_url(membership(merchant_a, bob)), {"action": "role", "role": Role.ACCOUNTANT})

    assert response.status_code == 403
    assert snapshot(merchant_a) == before


def test_an_unknown_action_is_a_bad_request(owner_client, merchant_a, bob):
    before = snapshot(merchant_a)

    response = owner_client.post(member_url(membership(merchant_a, bob)), {"action": "promote"})

    assert response.status_code == 400
    assert snapshot(merchant_a) == before


def test_an_unknown_membership_is_404(owner_client):
    assert owner_client.get(reverse("dashboard:team_member", args=[999999])).status_code == 404


# --- removing members and leaving ---------------------------------------------------------------------


def test_owner_removes_a_member(owner_client, merchant_a, bob):
    response = owner_client.post(member_url(membership(merchant_a, bob)), {"action": "remove"})

    assert response.status_code == 302
    assert not Membership.objects.filter(merchant=merchant_a, user=bob).exists()


def test_a_removal_is_audited(owner_client, merchant_a, alice, bob):
    owner_client.post(member_url(membership(merchant_a, bob)), {"action": "remove"})

    entry = AuditLog.objects.get(merchant=merchant_a, action="team.member_removed")
    assert entry.actor == alice
    assert entry.data == {"email": "bob@example.org", "role": Role.SUPPORT}


def test_admin_cannot_remove_an_owner(admin_client, merchant_a, alice):
    factories.member(merchant_a, "co-owner@example.org", Role.OWNER)
    before = snapshot(merchant_a)

    response = admin_client.post(member_url(membership(merchant_a, alice)), {"action": "remove"})

    assert response.status_code == 403
    assert snapshot(merchant_a) == before


def test_a_member_without_manage_permission_cannot_remove_others(client, merchant_a, bob):
    accountant = factories.member(merchant_a, "acc@example.org", Role.ACCOUNTANT)
    login(client, bob)
    before = snapshot(merchant_a)

    response = client.post(member_url(membership(merchant_a, accountant)), {"action": "remove"})

    assert response.status_code == 403
    assert snapshot(merchant_a) == before


def test_a_member_can_leave(client, merchant_a, bob):
    login(client, bob)

    response = client.post(member_url(membership(merchant_a, bob)), {"action": "remove"})

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:home")
    assert not Membership.objects.filter(merchant=merchant_a, user=bob).exists()
    assert AuditLog.objects.get(merchant=merchant_a, action="team.member_removed").actor == bob


def test_the_last_owner_cannot_leave(owner_client, merchant_a, alice):
    before = snapshot(merchant_a)

    response = owner_client.post(member_url(membership(merchant_a, alice)), {"action": "remove"})

    assert response.status_code == 200
    assert response.context["remove_error"] == "An organisation needs at least one owner."
    assert "An organisation needs at least one owner." in response.content.decode()
    assert snapshot(merchant_a) == before


def test_an_owner_can_leave_when_another_owner_remains(owner_client, merchant_a, alice):
    factories.member(merchant_a, "co-owner@example.org", Role.OWNER)

    owner_client.post(member_url(membership(merchant_a, alice)), {"action": "remove"})

    assert not Membership.objects.filter(merchant=merchant_a, user=alice).exists()


def test_after_leaving_the_dashboard_shows_the_remaining_organisation(client, merchant_a, merchant_b, bob):
    Membership.objects.create(user=bob, merchant=merchant_b, role=Role.SUPPORT)
    login(client, bob, merchant=merchant_a)

    client.post(member_url(membership(merchant_a, bob)), {"action": "remove"})
    response = client.get(TEAM)

    assert response.status_code == 200
    assert response.context["dashboard"].merchant == merchant_b
