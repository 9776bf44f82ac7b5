"""Password reset with Django's views, our templates and our emails."""

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.urls import reverse

from merchants.models import User
from tests import factories
from tests.merchants.helpers import html_body, last_email, link_path, post_login

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-anchor-meadow-77"


def ask_for_reset(client, email="alice@example.org"):
    return client.post(reverse("password_reset"), {"email": email})


def test_it_emails_a_link_to_the_account(client, alice):
    response = ask_for_reset(client, "ALICE@example.org")

    assert response.url == reverse("password_reset_done")
    message = last_email()
    assert message.to == ["alice@example.org"]
    assert message.subject == "Reset your PayPlatform password"
    assert "/password-reset/" in message.body
    assert "/password-reset/" in html_body(message)


def test_the_link_uses_the_public_base_url_not_the_host_header(client, alice, settings):
    settings.PUBLIC_BASE_URL = "https://pay.example.net"

    client.post(reverse("password_reset"), {"email": "alice@example.org"}, headers={"host": "localhost"})

    assert "https://pay.example.net/password-reset/" in last_email().body


def test_an_unknown_address_gets_the_same_answer_and_no_email(client):
    response = ask_for_reset(client, "nobody@example.org")

    assert response.url == reverse("password_reset_done")
    assert mail.outbox == []


def test_a_second_request_right_away_sends_no_second_email(client, alice):
    ask_for_reset(client)

    response = ask_for_reset(client)

    assert response.url == reverse("password_reset_done")
    assert len(mail.outbox) == 1


def test_the_link_sets_a_new_password(client, alice):
    ask_for_reset(client)
    form_url = client.get(link_path(last_email())).url

    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.url == reverse("password_reset_complete")
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)


def test_a_weak_new_password_is_refused(client, alice):
    ask_for_reset(client)
    form_url = client.get(link_path(last_email())).url

    response = client.post(form_url, {"new_password1": "12345", "new_password2": "12345"})

    assert response.status_code == 200
    assert 'id="id_new_password2_error"' in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(factories.PASSWORD)


def test_the_link_works_only_once(client, alice):
    ask_for_reset(client)
    path = link_path(last_email())
    form_url = client.get(path).url
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    response = client.get(path, follow=True)

    assert "This link is not valid" in response.content.decode()


def test_a_reset_lifts_a_lockout(client, alice, merchant_a):
    for _ in range(5):
        post_login(client, "alice@example.org", "wrong-password")
    ask_for_reset(client)
    form_url = client.get(link_path(last_email())).url

    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert not AccessAttempt.objects.exists()
    assert post_login(client, "alice@example.org", NEW_PASSWORD).status_code == 302


def test_a_reset_confirms_an_unverified_address(client):
    dana = factories.user("dana@example.org", verified=False)
    ask_for_reset(client, "dana@example.org")
    form_url = client.get(link_path(last_email())).url

    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert User.objects.get(pk=dana.pk).email_verified


def test_the_pages_use_our_templates(client):
    assert "registration/password_reset_form.html" in [t.name for t in client.get(reverse("password_reset")).templates]
    assert "registration/password_reset_done.html" in [
        t.name for t in client.get(reverse("password_reset_done")).templates
    ]
    assert "registration/password_reset_complete.html" in [
        t.name for t in client.get(reverse("password_reset_complete")).templates
    ]
