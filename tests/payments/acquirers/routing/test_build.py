"""connector_config() / build(): the right class with the right ConnectorConfig, and no network."""

import socket

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import override_settings

from payments.acquirers import routing
from payments.acquirers.adyen_acquirer import AdyenAcquirer
from payments.acquirers.base import ConnectorConfig
from payments.acquirers.http import HttpAcquirer
from payments.acquirers.sandbox import SandboxAcquirer
from payments.acquirers.stripe_acquirer import StripeAcquirer
from payments.models import AcquirerConnector

from .conftest import ADYEN_HMAC, ADYEN_KEY, STRIPE_KEY, STRIPE_WHSEC, make_connector

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("building a connector must not call out")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def _fresh(connector):
    return AcquirerConnector.objects.get(pk=connector.pk)


def test_stripe_with_the_default_base(merchant_a):
    connector = _fresh(make_connector(merchant_a))
    assert routing.connector_config(connector) == ConnectorConfig(
        api_key=STRIPE_KEY,
        webhook_secret=STRIPE_WHSEC,
        base_url="https://api.stripe.com",
        test_environment=True,
        timeout=10.0,
    )
    acquirer = routing.build(connector)
    assert isinstance(acquirer, StripeAcquirer)
    assert acquirer._base_url == "https://api.stripe.com"
    assert STRIPE_KEY not in repr(acquirer) and STRIPE_KEY not in repr(routing.connector_config(connector))


@override_settings(STRIPE_API_BASE="https://egress.internal/stripe", ACQUIRER_TIMEOUT_SECONDS=4.0)
def test_stripe_base_from_the_settings_and_the_connectors_own(merchant_a):
    connector = make_connector(merchant_a)
    config = routing.connector_config(connector)
    assert config.base_url == "https://egress.internal/stripe" and config.timeout == 4.0
    connector.base_url = "http://127.0.0.1:12111"
    assert routing.build(connector)._base_url == "http://127.0.0.1:12111"


def test_stripe_live(merchant_a):
    connector = make_connector(merchant_a, True, test_environment=False)
    config = routing.connector_config(connector)
    assert config.test_environment is False and config.api_key.startswith("sk_live_")
    assert routing.build(connector)._livemode is True


def test_a_test_key_in_the_live_environment_does_not_build(merchant_a):
    connector = make_connector(merchant_a, True, test_environment=False)
    connector.set_secrets(api_key=STRIPE_KEY)
    with pytest.raises(ValueError):
        routing.build(connector)


def test_adyen_test(merchant_a):
    connector = _fresh(make_connector(merchant_a, provider="adyen", merchant_account="AliceShopECOM"))
    assert routing.connector_config(connector) == ConnectorConfig(
        api_key=ADYEN_KEY,
        webhook_secret=ADYEN_HMAC,
        merchant_account="AliceShopECOM",
        base_url="https://checkout-test.adyen.com",
        test_environment=True,
        timeout=10.0,
    )
    acquirer = routing.build(connector)
    assert isinstance(acquirer, AdyenAcquirer)
    assert acquirer.checkout_url == "https://checkout-test.adyen.com/v71"
    assert acquirer._me.baseUrl == "https://management-test.adyen.com/v3"
    assert acquirer.merchant_account == "AliceShopECOM"


def test_adyen_live_uses_the_prefix_template(merchant_a):
    connector = make_connector(
        merchant_a, True, provider="adyen", test_environment=False, live_url_prefix="1797a841fbb37ca7-AdyenDemo"
    )
    acquirer = routing.build(connector)
    assert acquirer.checkout_url == "https://1797a841fbb37ca7-AdyenDemo-checkout-live.adyenpayments.com/checkout/v71"
    assert acquirer._me.baseUrl == "https://management-live.adyen.com/v3"
    assert acquirer.test_environment is False


def test_adyen_live_needs_its_prefix(merchant_a):
    connector = AcquirerConnector(
        merchant=merchant_a, is_live=True, provider="adyen", label="a", test_environment=False, merchant_account="M"
    )
    connector.set_secrets(api_key=ADYEN_KEY)
    with pytest.raises(ValidationError) as caught:
        connector.full_clean()
    assert "live_url_prefix" in caught.value.message_dict
    with pytest.raises(ValueError):
        routing.build(connector)


def test_generic_http(merchant_a):
    connector = make_connector(merchant_a, True, provider="generic_http", base_url="https://acquirer.example/v1")
    acquirer = routing.build(connector)
    assert isinstance(acquirer, HttpAcquirer)
    assert routing.connector_config(connector).api_key == "generic-secret-key-1234"


@override_settings(ACQUIRER_API_KEY="settings-key")
def test_a_stored_generic_connector_never_borrows_the_settings_key(merchant_a):
    connector = AcquirerConnector(merchant=merchant_a, is_live=True, provider="generic_http", label="g")
    connector.save()
    assert routing.connector_config(connector).api_key == ""
    with pytest.raises(ImproperlyConfigured):
        routing.build(connector)


@pytest.mark.parametrize("is_live", [False, True])
def test_the_sandbox_and_the_defaults(merchant_a, is_live):
    assert isinstance(
        routing.build(routing.candidates(merchant_a, is_live, brand="Visa", amount=1, country="FR")[0]), SandboxAcquirer
    )
    connector = make_connector(merchant_a, provider="sandbox")
    assert isinstance(routing.build(connector), SandboxAcquirer)


@override_settings(LIVE_ACQUIRER="http", ACQUIRER_URL="https://acquirer.example", ACQUIRER_API_KEY="k-settings")
def test_the_live_default_is_the_http_acquirer_of_the_settings(merchant_a):
    (default,) = routing.candidates(merchant_a, True, brand="Visa", amount=1, country="FR")
    assert isinstance(routing.build(default), HttpAcquirer)


@override_settings(LIVE_ACQUIRER="http")
def test_a_live_sandbox_connector_is_refused_unless_the_installation_runs_on_the_sandbox(merchant_a):
    connector = AcquirerConnector(merchant=merchant_a, is_live=True, provider="sandbox", label="s")
    with pytest.raises(ValidationError) as caught:
        connector.full_clean()
    assert "provider" in caught.value.message_dict


@pytest.mark.parametrize(
    "url", ["http://api.stripe.com", "http://10.0.0.5:8080", "ftp://localhost", "https://u:p@proxy", "https://p/?q=1"]
)
def test_a_connector_base_url_is_https_or_loopback_http(merchant_a, url):
    connector = make_connector(merchant_a)
    connector.base_url = url
    with pytest.raises(ValidationError) as caught:
        connector.full_clean()
    assert "base_url" in caught.value.message_dict


@pytest.mark.parametrize(
    "url", ["http://localhost:12111", "http://127.0.0.1:8080", "http://[::1]:9000", "https://proxy"]
)
def test_loopback_http_and_https_base_urls_are_accepted(merchant_a, url):
    connector = make_connector(merchant_a)
    connector.base_url = url
    connector.full_clean()
    assert isinstance(routing.build(connector), StripeAcquirer)
