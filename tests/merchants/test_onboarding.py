"""Onboarding: after verifying the email, create an organisation; test mode works at once."""

import pytest
from django.urls import reverse

from merchants.models import ApiKey, AuditLog, Membership, Merchant
from tests import factories
from tests.merchants.helpers import last_email, link_path

pytestmark = pytest.mark.django_db

URL = "/onboarding/organisation/"


@pytest.fixture
def dana_client(client):
    dana = factories.user("dana@example.org")
    client.force_login(dana)
    client.user = dana
    return client


def test_a_verified_user_without_organisation_is_sent_here(dana_client):
    response = dana_client.get(reverse("dashboard:home"))

    assert response.url == reverse("onboarding_organisation")


def test_it_creates_the_organisation_with_its_owner_and_test_keys(dana_client):
    response = dana_client.post(URL, {"name": "  Dana   Crafts ", "then": "settings"})

    merchant = Merchant.objects.get()
    assert response.url == reverse("dashboard:settings")
    assert merchant.name == "Dana Crafts"
    assert Membership.objects.get(merchant=merchant).user == dana_client.user
    assert Membership.objects.get(merchant=merchant).role == Membership.Role.OWNER
    assert merchant.api_keys.filter(is_live=False, kind=ApiKey.Kind.PUBLISHABLE).exists()
    assert AuditLog.objects.filter(merchant=merchant, action="merchant.created").exists()


def test_it_can_go_straight_to_the_dashboard_in_test_mode(dana_client):
    response = dana_client.post(URL, {"name": "Dana Crafts", "then": "dashboard"})

    assert response.url == reverse("dashboard:home")
    home = dana_client.get(reverse("dashboard:home"))
    assert home.status_code == 200
    assert home.context["dashboard"].merchant.name == "Dana Crafts"
    assert home.context["dashboard"].mode == "test"


def test_a_name_is_required(dana_client):
    response = dana_client.post(URL, {"name": "   ", "then": "settings"})

    assert response.status_code == 200
    assert 'id="id_name_error"' in response.content.decode()
    assert not Merchant.objects.exists()


def test_the_name_field_is_an_organization(dana_client):
    assert 'autocomplete="organization"' in dana_client.get(URL).content.decode()


def test_an_unverified_user_must_confirm_the_email_first(client):
    client.force_login(factories.user("erin@example.org", verified=False))

    response = client.post(URL, {"name": "Erin", "then": "settings"})

    assert response.url == reverse("verify_email_sent")
    assert not Merchant.objects.exists()


def test_it_needs_a_login(client):
    response = client.post(URL, {"name": "Nobody"})

    assert response.url.startswith(reverse("login"))
    assert not Merchant.objects.exists()


def test_a_member_can_create_another_organisation_and_switches_to_it(alice_client, merchant_a):
    alice_client.post(URL, {"name": "Alice Second", "then": "dashboard"})

    home = alice_client.get(reverse("dashboard:home"))
    assert home.context["dashboard"].merchant.name == "Alice Second"
    assert len(home.context["dashboard"].memberships) == 2


def test_sign_up_to_test_keys_end_to_end(client):
    # given: a new visitor signs up
    client.post(
        reverse("signup"),
        {"email": "fred@example.org", "full_name": "Fred", "password": "plum-kettle-sonata-42"},
    )
    # signing up does not log in (that would tell whether the address had an account): the link does
    assert client.get(reverse("dashboard:home")).url.startswith(reverse("login"))

    # when: the link is followed and the organisation created
    client.get(link_path(last_email()))
    client.post(URL, {"name": "Fred Bikes", "then": "dashboard"})

    # then: the dashboard works in test mode, with a test publishable key
    home = client.get(reverse("dashboard:home"))
    assert home.status_code == 200
    merchant = Merchant.objects.get(name="Fred Bikes")
    assert merchant.api_keys.filter(is_live=False).exists()
    assert not merchant.live_enabled
