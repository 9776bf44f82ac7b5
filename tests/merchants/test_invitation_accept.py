"""Answering an invitation: accept when logged in with the invited address, else log in or sign up."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from merchants.models import AuditLog, Invitation, Membership, User
from merchants.services.audit import Actor
from merchants.services.team import invite_member
from tests import factories
from tests.merchants.helpers import current_code, post_login, totp_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitation(merchant_a, alice):
    invitation, token = invite_member(merchant_a, "Dana@Example.org", Membership.Role.DEVELOPER, Actor(user=alice))
    invitation.token = token
    return invitation


def url(invitation):
    return reverse("accept_invitation", args=[invitation.token])


def test_an_anonymous_visitor_sees_the_invitation_and_is_offered_login_or_signup(client, invitation):
    response = client.get(url(invitation))

    content = response.content.decode()
    assert response.status_code == 200
    assert "Join Alice Shop" in content
    assert "Developer" in content
    assert "dana@example.org" in content
    assert f"{reverse('login')}?next=" in content
    assert f"{reverse('signup')}?next=" in content


def test_an_unknown_token_gives_a_404(client):
    response = client.get(reverse("accept_invitation", args=["nope"]))

    assert response.status_code == 404
    assert "This invitation is not valid" in response.content.decode()


def test_an_expired_invitation_gives_a_404(client, invitation):
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert client.get(url(invitation)).status_code == 404


def test_the_invited_user_accepts(client, invitation, merchant_a):
    dana = factories.user("dana@example.org")
    client.force_login(dana)

    response = client.post(url(invitation))

    assert response.url == reverse("dashboard:home")
    membership = Membership.objects.get(user=dana, merchant=merchant_a)
    assert membership.role == Membership.Role.DEVELOPER
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert AuditLog.objects.filter(merchant=merchant_a, action="team.joined").exists()
    assert client.get(reverse("dashboard:home")).context["dashboard"].merchant == merchant_a


def test_someone_logged_in_with_another_address_is_told_clearly(client, invitation, merchant_a, charlie):
    client.force_login(charlie)

    page = client.get(url(invitation))
    refused = client.post(url(invitation))

    assert "This invitation was sent to dana@example.org, but you are logged in as charlie@example.org" in (
        page.content.decode()
    )
    assert "Accept the invitation" not in page.content.decode()
    assert refused.status_code == 403
    assert not Membership.objects.filter(user=charlie, merchant=merchant_a).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_a_post_without_login_goes_to_login(client, invitation):
    response = client.post(url(invitation))

    assert response.url.startswith(reverse("login"))
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_signing_up_from_the_invitation_comes_back_to_it_with_the_address_confirmed(client, invitation, merchant_a):
    client.get(url(invitation))
    signup_page = client.get(reverse("signup"), {"next": url(invitation)})
    assert signup_page.context["form"].initial["email"] == "dana@example.org"

    response = client.post(
        reverse("signup"),
        {
            "email": "dana@example.org",
            "full_name": "Dana",
            "password": "plum-kettle-sonata-42",
            "next": url(invitation),
        },
    )
    assert response.url == url(invitation)
    client.post(url(invitation))

    dana = User.objects.get(email="dana@example.org")
    assert dana.email_verified
    assert mail.outbox == []  # no verification email needed
    assert Membership.objects.filter(user=dana, merchant=merchant_a).exists()


def test_signing_up_with_another_address_needs_the_usual_verification(client, invitation):
    client.get(url(invitation))

    client.post(
        reverse("signup"),
        {
            "email": "erin@example.org",
            "full_name": "Erin",
            "password": "plum-kettle-sonata-42",
            "next": url(invitation),
        },
    )

    assert not User.objects.get(email="erin@example.org").email_verified
    assert len(mail.outbox) == 1


def test_logging_in_from_the_invitation_comes_back_to_it(client, invitation):
    factories.user("dana@example.org")
    client.get(url(invitation))

    response = post_login(client, "dana@example.org", next=url(invitation))

    assert response.url == url(invitation)


def test_a_user_with_two_factor_passes_it_before_accepting(client, invitation, merchant_a):
    dana = factories.user("dana@example.org")
    device = totp_device(dana)
    post_login(client, "dana@example.org", next=url(invitation))

    response = client.post(reverse("login_otp"), {"code": current_code(device)})
    assert response.url == url(invitation)
    client.post(url(invitation))

    assert Membership.objects.filter(user=dana, merchant=merchant_a).exists()


def test_an_accepted_invitation_cannot_be_used_again(client, invitation, merchant_a):
    dana = factories.user("dana@example.org")
    client.force_login(dana)
    client.post(url(invitation))

    response = client.get(url(invitation))

    assert response.status_code == 404
