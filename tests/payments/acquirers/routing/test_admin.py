"""The staff admin of connectors and routes: secrets go in, never come back out."""

import pytest
from django.urls import reverse

from payments.models import AcquirerConnector, AcquirerRoute

from .conftest import STRIPE_KEY, STRIPE_WHSEC, make_connector

pytestmark = pytest.mark.django_db

NEW_KEY = "sk_test_51BrandNewSecretValue0123456789LMNO"


def _assert_no_secret(html: str, *secrets: str):
    for secret in secrets:
        assert secret not in html
        assert secret[:-4] not in html


def _form(merchant, **changes):
    data = {
        "merchant": merchant.pk,
        "provider": "stripe",
        "label": "Stripe test",
        "is_enabled": "on",
        "test_environment": "on",
        "base_url": "",
        "merchant_account": "",
        "live_url_prefix": "",
        "api_key": "",
        "webhook_secret": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_change_page_never_shows_a_secret(staff_client, merchant_a):
    connector = make_connector(merchant_a)
    html = staff_client.get(reverse("admin:payments_acquirerconnector_change", args=[connector.pk])).content.decode()
    _assert_no_secret(html, STRIPE_KEY, STRIPE_WHSEC)
    assert f"ending …{STRIPE_KEY[-4:]}" in html and "key version 1" in html
    assert 'type="password"' in html
    listing = staff_client.get(reverse("admin:payments_acquirerconnector_changelist")).content.decode()
    _assert_no_secret(listing, STRIPE_KEY, STRIPE_WHSEC)


def test_staff_add_a_connector_and_its_secrets_are_sealed(staff_client, merchant_a):
    response = staff_client.post(
        reverse("admin:payments_acquirerconnector_add"),
        _form(merchant_a, api_key=STRIPE_KEY, webhook_secret=STRIPE_WHSEC),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    connector = AcquirerConnector.objects.get()
    assert connector.merchant == merchant_a and connector.is_live is False
    assert connector.unseal("api_key") == STRIPE_KEY and connector.unseal("webhook_secret") == STRIPE_WHSEC
    assert STRIPE_KEY.encode() not in bytes(connector.api_key_sealed)


def test_an_empty_password_field_keeps_the_secret_and_a_new_one_replaces_it(staff_client, merchant_a):
    connector = make_connector(merchant_a)
    url = reverse("admin:payments_acquirerconnector_change", args=[connector.pk])
    assert staff_client.post(url, _form(merchant_a, label="renamed")).status_code == 302
    connector.refresh_from_db()
    assert connector.label == "renamed" and connector.unseal("api_key") == STRIPE_KEY
    assert connector.rotated_at is None
    assert staff_client.post(url, _form(merchant_a, api_key=NEW_KEY)).status_code == 302
    connector.refresh_from_db()
    assert connector.unseal("api_key") == NEW_KEY and connector.unseal("webhook_secret") == STRIPE_WHSEC
    assert connector.rotated_at is not None
    html = staff_client.get(url).content.decode()
    _assert_no_secret(html, NEW_KEY, STRIPE_WHSEC)
    assert "ending …LMNO" in html


def test_a_rejected_form_does_not_echo_the_secret(staff_client, merchant_a):
    response = staff_client.post(
        reverse("admin:payments_acquirerconnector_add"),
        _form(merchant_a, test_environment=None, api_key=STRIPE_KEY, base_url="http://10.1.2.3"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    _assert_no_secret(html, STRIPE_KEY)
    assert "loopback" in html
    assert not AcquirerConnector.objects.exists()


def test_a_key_of_the_wrong_environment_is_refused(staff_client, merchant_a):
    response = staff_client.post(
        reverse("admin:payments_acquirerconnector_add"),
        _form(merchant_a, is_live="on", test_environment=None, api_key=STRIPE_KEY),
    )
    assert response.status_code == 200
    _assert_no_secret(response.content.decode(), STRIPE_KEY)
    assert "cannot work" in response.content.decode()
    assert not AcquirerConnector.objects.exists()


def test_a_provider_without_api_key_is_refused(staff_client, merchant_a):
    response = staff_client.post(reverse("admin:payments_acquirerconnector_add"), _form(merchant_a))
    assert response.status_code == 200
    assert not AcquirerConnector.objects.exists()


def test_staff_add_a_route_with_conditions(staff_client, merchant_a, merchant_b):
    connector = make_connector(merchant_a)
    data = {
        "merchant": merchant_a.pk,
        "position": 1,
        "connector": connector.pk,
        "card_brands": "Visa, Mastercard",
        "min_amount": "100",
        "max_amount": "",
        "card_countries": "fr, be",
    }
    response = staff_client.post(reverse("admin:payments_acquirerroute_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    route = AcquirerRoute.objects.get()
    assert route.card_brands == ["Visa", "Mastercard"] and route.card_countries == ["FR", "BE"]
    assert route.min_amount == 100 and route.max_amount is None
    page = staff_client.get(reverse("admin:payments_acquirerroute_change", args=[route.pk])).content.decode()
    assert "Visa, Mastercard" in page
    # another merchant's connector, or another mode: refused
    for changes in ({"merchant": merchant_b.pk}, {"is_live": "on"}):
        response = staff_client.post(reverse("admin:payments_acquirerroute_add"), {**data, **changes})
        assert response.status_code == 200
    assert AcquirerRoute.objects.count() == 1


def test_merchants_do_not_reach_the_admin(alice_client, merchant_a):
    connector = make_connector(merchant_a)
    response = alice_client.get(reverse("admin:payments_acquirerconnector_change", args=[connector.pk]))
    assert response.status_code == 302
