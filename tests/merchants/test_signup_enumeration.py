"""Sign-up does not tell whether an address has an account (issue 12, finding 8).

Signing up with an address that already has an account answers exactly as a fresh sign-up does
(same redirect, same "check your inbox" page); the owner of the account gets an email saying that
someone tried, with links to log in and to reset the password. Nothing is created or changed.
"""

import re

import pytest
from django.core import mail
from django.urls import reverse

from merchants.models import User
from tests import factories
from tests.merchants.helpers import html_body

pytestmark = pytest.mark.django_db

PASSWORD = "plum-kettle-sonata-42"


def _sign_up(client, email):
    return client.post(reverse("signup"), {"email": email, "full_name": "Dana Doe", "password": PASSWORD})


def _visible(response) -> str:
    """The page without what differs from one request to the next (CSRF tokens)."""
    text = response.content.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken" value=""', text)


@pytest.fixture
def existing():
    user = factories.user("dana@example.org", password="an-old-secret-77", preferred_language="fr")
    return user


def test_the_answer_is_the_same_with_or_without_an_account(client, existing):
    fresh, fresh_client = _sign_up(client, "erin@example.org"), client
    other = type(client)()
    taken = _sign_up(other, "Dana@Example.org")

    assert taken.status_code == fresh.status_code == 302
    assert taken.url == fresh.url == reverse("verify_email_sent")
    assert set(taken.cookies) == set(fresh.cookies)

    fresh_page = fresh_client.get(fresh.url)
    taken_page = other.get(taken.url)
    assert taken_page.status_code == fresh_page.status_code == 200
    assert [t.name for t in taken_page.templates] == [t.name for t in fresh_page.templates]
    assert "registration/verify_email_sent.html" in [t.name for t in taken_page.templates]
    assert _visible(taken_page).replace("dana@example.org", "X") == _visible(fresh_page).replace(
        "erin@example.org", "X"
    )
    # The next page tried answers the same too: neither browser is logged in.
    assert "_auth_user_id" not in fresh_client.session
    assert "_auth_user_id" not in other.session
    home_fresh = fresh_client.get(reverse("dashboard:home"))
    home_taken = other.get(reverse("dashboard:home"))
    assert (home_fresh.status_code, home_fresh.url) == (home_taken.status_code, home_taken.url)


def test_asking_for_the_email_again_answers_the_same(client, existing):
    _sign_up(client, "erin@example.org")
    other = type(client)()
    _sign_up(other, "dana@example.org")

    fresh = client.post(reverse("verify_email_sent"), follow=True)
    taken = other.post(reverse("verify_email_sent"), follow=True)

    assert _visible(taken).replace("dana@example.org", "X") == _visible(fresh).replace("erin@example.org", "X")
    assert "Wait a minute" in fresh.content.decode()


def test_nothing_is_created_or_changed_for_an_existing_account(client, existing):
    before = User.objects.get(pk=existing.pk)

    _sign_up(client, "DANA@example.org")

    assert User.objects.count() == 1
    after = User.objects.get(pk=existing.pk)
    assert after.password == before.password
    assert after.check_password("an-old-secret-77")
    assert not after.check_password(PASSWORD)
    assert (after.full_name, after.preferred_language, after.email_verified_at) == (
        before.full_name,
        before.preferred_language,
        before.email_verified_at,
    )
    assert "_auth_user_id" not in client.session


def test_the_owner_of_the_address_is_told_in_their_language(client, existing):
    _sign_up(client, "dana@example.org")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dana@example.org"]
    assert "/verify-email/" not in message.body
    assert message.subject  # in the account owner's language (French here), not the visitor's
    assert '<html lang="fr">' in html_body(message)
    for body in (message.body, html_body(message)):
        assert reverse("login") in body
        assert reverse("password_reset") in body


def test_a_new_address_gets_the_verification_email(client, existing):
    _sign_up(client, "erin@example.org")

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["erin@example.org"]
    assert "/verify-email/" in mail.outbox[0].body


def test_the_link_logs_in_the_browser_that_signed_up(client):
    _sign_up(client, "erin@example.org")
    link = re.search(r"https?://\S+(/verify-email/\S+/)", mail.outbox[0].body).group(1)

    other = type(client)()
    other.get(link)
    assert "_auth_user_id" not in other.session

    client.get(link)
    assert int(client.session["_auth_user_id"]) == User.objects.get(email="erin@example.org").pk
