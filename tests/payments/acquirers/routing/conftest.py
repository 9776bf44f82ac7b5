"""Fixtures of the routing tests: connectors with credentials, staff."""

import base64
import os

import pytest

from payments.models import AcquirerConnector, AcquirerRoute
from tests import factories
from tests.merchants.helpers import login_verified

KEY_1 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # the test suite's CARD_KEYS version 1
KEY_2 = base64.b64encode(os.urandom(32)).decode()

STRIPE_KEY = "sk_test_51Secretvalue0123456789abcdefWXYZ"
STRIPE_WHSEC = "whsec_SigningSecret0123456789abcdEFGH"
ADYEN_KEY = "AQEyhmfxSecretAdyenApiKey0123456789QRST"
ADYEN_HMAC = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"


def make_connector(merchant, is_live=False, provider="stripe", *, api_key=None, webhook_secret=None, **fields):
    fields.setdefault("label", f"{provider} connector")
    connector = AcquirerConnector(merchant=merchant, is_live=is_live, provider=provider, **fields)
    if provider == "stripe":
        api_key = api_key or (STRIPE_KEY if connector.test_environment else "sk_live_51LiveSecret0123456789")
        webhook_secret = webhook_secret or STRIPE_WHSEC
    elif provider == "adyen":
        connector.merchant_account = connector.merchant_account or "AliceShopECOM"
        api_key, webhook_secret = api_key or ADYEN_KEY, webhook_secret or ADYEN_HMAC
    elif provider == "generic_http":
        api_key = api_key or "generic-secret-key-1234"
    connector.set_secrets(api_key=api_key, webhook_secret=webhook_secret)
    connector.full_clean()
    connector.save()
    return connector


def make_route(connector, position, **conditions):
    route = AcquirerRoute(
        merchant=connector.merchant, is_live=connector.is_live, connector=connector, position=position, **conditions
    )
    route.full_clean()
    route.save()
    return route


@pytest.fixture
def staff_client(client, db):
    staff = factories.user("staff@platform.test", is_staff=True, is_superuser=True)
    login_verified(client, staff)  # the admin site wants a verified second factor
    return client
