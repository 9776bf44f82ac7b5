"""Sign-up: an unverified user, with a verification email on its way; its link logs the browser in."""

import pytest
from django.core import mail
from django.urls import reverse

from merchants.models import User
from tests import factories
from tests.csp import assert_no_inline_script_or_style
from tests.merchants.helpers import html_body, last_email, link_path

pytestmark = pytest.mark.django_db

GOOD = {"email": "dana@example.org", "full_name": "Dana Doe", "password": "plum-kettle-sonata-42"}


def test_it_creates_an_unverified_user_logged_in_by_the_link_only(client):
    # when
    response = client.post(reverse("signup"), GOOD)

    # then
    assert response.status_code == 302
    assert response.url == reverse("verify_email_sent")
    user = User.objects.get(email="dana@example.org")
    assert user.full_name == "Dana Doe"
    assert user.email_verified_at is None
    assert user.check_password(GOOD["password"])
    # Not logged in yet: an address that already has an account gets the same answer, and logging
    # in would tell the two apart (issue 12, finding 8). The verification link logs this browser in.
    assert "_auth_user_id" not in client.session
    client.get(link_path(last_email()))
    assert int(client.session["_auth_user_id"]) == user.pk


def test_it_sends_a_verification_email_with_subject_text_and_html(client):
    client.post(reverse("signup"), GOOD)

    assert len(mail.outbox) == 1
    message = last_email()
    assert message.to == ["dana@example.org"]
    assert message.subject == "Confirm your email address"
    assert "/verify-email/" in message.body
    assert "/verify-email/" in html_body(message)


def test_it_stores_the_email_in_lower_case(client):
    client.post(reverse("signup"), {**GOOD, "email": "Dana@Example.ORG"})

    assert User.objects.filter(email="dana@example.org").exists()


def test_an_email_already_used_in_another_case_creates_nothing_and_tells_its_owner(client):
    factories.user("dana@example.org")

    response = client.post(reverse("signup"), {**GOOD, "email": "DANA@example.org"})

    # The same answer as a fresh sign-up (tests/merchants/test_signup_enumeration.py).
    assert response.status_code == 302
    assert response.url == reverse("verify_email_sent")
    assert "An account already exists" not in client.get(response.url).content.decode()
    assert User.objects.count() == 1
    assert [message.to for message in mail.outbox] == [["dana@example.org"]]
    assert "/verify-email/" not in mail.outbox[0].body
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "password, reason",
    [
        ("short1!", "too short"),
        ("1234567890123", "entirely numeric"),
        ("password1234", "too common"),
        ("dana@example.org1", "too similar"),
    ],
)
def test_it_refuses_a_weak_password(client, password, reason):
    response = client.post(reverse("signup"), {**GOOD, "password": password})

    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not User.objects.exists()
    assert mail.outbox == []


def test_it_requires_every_field(client):
    response = client.post(reverse("signup"), {})

    form = response.context["form"]
    assert set(form.errors) == {"email", "full_name", "password"}
    assert not User.objects.exists()


def test_errors_are_shown_next_to_the_field(client):
    response = client.post(reverse("signup"), {**GOOD, "email": "not-an-email"})

    assert 'id="id_email_error"' in response.content.decode()


def test_the_form_has_autocomplete_attributes(client):
    content = client.get(reverse("signup")).content.decode()

    assert 'autocomplete="email"' in content
    assert 'autocomplete="name"' in content
    assert 'autocomplete="new-password"' in content


def test_the_page_has_no_inline_script_or_style(client):
    content = client.get(reverse("signup")).content.decode()

    assert_no_inline_script_or_style(content)
    assert "auth-card" in content


def test_a_logged_in_user_is_sent_on(alice_client):
    response = alice_client.get(reverse("signup"))

    assert response.status_code == 302
    assert response.url == reverse("dashboard:home")
