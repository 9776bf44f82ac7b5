"""Email verification: a signed, expiring link; a resend button with a rate limit."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from merchants.models import User
from merchants.views.accounts import make_verification_token
from tests import factories
from tests.merchants.helpers import last_email, link_path

pytestmark = pytest.mark.django_db


@pytest.fixture
def dana(db):
    return factories.user("dana@example.org", verified=False)


@pytest.fixture
def dana_client(client, dana):
    client.force_login(dana)
    return client


def test_the_emailed_link_confirms_the_address(client):
    client.post(
        reverse("signup"),
        {"email": "dana@example.org", "full_name": "Dana", "password": "plum-kettle-sonata-42"},
    )
    path = link_path(last_email())

    response = client.get(path)

    assert response.status_code == 302
    assert User.objects.get(email="dana@example.org").email_verified_at is not None


def test_after_confirming_a_user_without_organisation_goes_to_onboarding(dana_client, dana):
    response = dana_client.get(reverse("verify_email", args=[make_verification_token(dana)]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("onboarding_organisation")


def test_the_link_works_without_being_logged_in(client, dana):
    response = client.get(reverse("verify_email", args=[make_verification_token(dana)]))

    assert response.url == reverse("login")
    dana.refresh_from_db()
    assert dana.email_verified


def test_an_expired_link_is_refused(client, dana, settings):
    token = make_verification_token(dana)
    settings.EMAIL_VERIFICATION_MAX_AGE = -1

    response = client.get(reverse("verify_email", args=[token]))

    assert response.status_code == 400
    dana.refresh_from_db()
    assert dana.email_verified_at is None


def test_a_tampered_link_is_refused(client, dana):
    token = make_verification_token(dana)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    response = client.get(reverse("verify_email", args=[tampered]))

    assert response.status_code == 400
    dana.refresh_from_db()
    assert dana.email_verified_at is None


def test_a_link_for_a_previous_address_is_refused(client, dana):
    token = make_verification_token(dana)
    User.objects.filter(pk=dana.pk).update(email="other@example.org")

    response = client.get(reverse("verify_email", args=[token]))

    assert response.status_code == 400
    assert User.objects.get(pk=dana.pk).email_verified_at is None


def test_confirming_twice_keeps_the_first_timestamp(client, dana):
    token = make_verification_token(dana)
    client.get(reverse("verify_email", args=[token]))
    first = User.objects.get(pk=dana.pk).email_verified_at

    client.get(reverse("verify_email", args=[token]))

    assert User.objects.get(pk=dana.pk).email_verified_at == first


def test_the_dashboard_sends_an_unverified_user_to_the_waiting_page(dana_client):
    response = dana_client.get(reverse("dashboard:home"))

    assert response.url == reverse("verify_email_sent")


def test_the_waiting_page_offers_a_resend_button(dana_client):
    content = dana_client.get(reverse("verify_email_sent")).content.decode()

    assert "dana@example.org" in content
    assert "Send the email again" in content


def test_resend_sends_a_new_link(dana_client, dana):
    response = dana_client.post(reverse("verify_email_sent"))

    assert response.status_code == 302
    assert last_email().to == [dana.email]
    assert dana_client.get(link_path(last_email())).status_code == 302
    assert User.objects.get(pk=dana.pk).email_verified


def test_resend_right_after_signup_is_refused(client):
    client.post(
        reverse("signup"),
        {"email": "dana@example.org", "full_name": "Dana", "password": "plum-kettle-sonata-42"},
    )

    response = client.post(reverse("verify_email_sent"), follow=True)

    assert len(mail.outbox) == 1
    assert "Wait a minute" in response.content.decode()


def test_resend_is_capped_per_hour(dana_client, dana):
    for _ in range(5):
        dana_client.post(reverse("verify_email_sent"))
        cache.delete(f"verify-email-cooldown:{dana.pk}")  # as if a minute had passed

    dana_client.post(reverse("verify_email_sent"))

    assert len(mail.outbox) == 5


def test_the_waiting_page_needs_a_login(client):
    response = client.get(reverse("verify_email_sent"))

    assert response.url.startswith(reverse("login"))


def test_a_verified_user_skips_the_waiting_page(alice_client):
    response = alice_client.get(reverse("verify_email_sent"))

    assert response.url == reverse("dashboard:home")
