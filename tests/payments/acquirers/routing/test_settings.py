"""The provider endpoint settings: https://, or plain http:// to a loopback host only."""

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from payplug.settings import validate_acquirer_urls

NAMES = (
    "STRIPE_API_BASE",
    "ADYEN_CHECKOUT_TEST_URL",
    "ADYEN_CHECKOUT_LIVE_URL_TEMPLATE",
    "ADYEN_MANAGEMENT_TEST_URL",
    "ADYEN_MANAGEMENT_LIVE_URL",
)


def _values(**changes):
    values = {name: getattr(settings, name) for name in NAMES}
    values.update(changes)
    return values


def test_the_defaults_are_the_providers_own():
    assert settings.STRIPE_API_BASE == "https://api.stripe.com"
    assert settings.ADYEN_CHECKOUT_TEST_URL == "https://checkout-test.adyen.com"
    assert settings.ADYEN_CHECKOUT_LIVE_URL_TEMPLATE == "https://{prefix}-checkout-live.adyenpayments.com/checkout"
    assert settings.ADYEN_MANAGEMENT_TEST_URL == "https://management-test.adyen.com"
    assert settings.ADYEN_MANAGEMENT_LIVE_URL == "https://management-live.adyen.com"
    validate_acquirer_urls(_values())


@pytest.mark.parametrize("name", [n for n in NAMES if not n.endswith("_TEMPLATE")])
@pytest.mark.parametrize(
    "url", ["http://localhost:12111", "http://127.0.0.1:8080", "http://[::1]:1", "https://egress.internal"]
)
def test_loopback_http_or_https_is_accepted(name, url):
    validate_acquirer_urls(_values(**{name: url}))


@pytest.mark.parametrize("name", [n for n in NAMES if not n.endswith("_TEMPLATE")])
@pytest.mark.parametrize(
    "url",
    [
        "http://api.stripe.com",
        "http://192.168.1.10",
        "http://localhost.example.com",
        "ftp://127.0.0.1",
        "",
        "https://a:b@x",
    ],
)
def test_anything_else_stops_the_start_naming_the_setting(name, url):
    with pytest.raises(ImproperlyConfigured, match=name):
        validate_acquirer_urls(_values(**{name: url}))


@pytest.mark.parametrize(
    "template", ["https://checkout-live.example", "http://{prefix}.proxy.example", "https://{prefix}-{other}.example"]
)
def test_the_live_template_needs_https_and_its_prefix(template):
    with pytest.raises(ImproperlyConfigured, match="ADYEN_CHECKOUT_LIVE_URL_TEMPLATE"):
        validate_acquirer_urls(_values(ADYEN_CHECKOUT_LIVE_URL_TEMPLATE=template))
    validate_acquirer_urls(_values(ADYEN_CHECKOUT_LIVE_URL_TEMPLATE="http://127.0.0.1:8080/{prefix}/checkout"))
