import pytest
import responses

from payments.acquirers.adyen_acquirer import AdyenAcquirer
from payments.acquirers.base import ConnectorConfig
from tests.payments.acquirers.adyen.fakes import API_KEY, HMAC_KEY, MERCHANT_ACCOUNT, AdyenFake

# 2026-11-04T10:16:00+01:00: a minute after the notifications' eventDate.
NOW = 1793783760.0


def config(**overrides) -> ConnectorConfig:
    fields = {"api_key": API_KEY, "webhook_secret": HMAC_KEY, "merchant_account": MERCHANT_ACCOUNT, "timeout": 5.0}
    fields.update(overrides)
    return ConnectorConfig(**fields)


@pytest.fixture
def mock():
    # Every registered answer must be asked for, and nothing else may be asked (no passthrough).
    with responses.RequestsMock(assert_all_requests_are_fired=True) as requests_mock:
        yield requests_mock


@pytest.fixture
def fake(mock):
    return AdyenFake(mock)


@pytest.fixture
def adyen():
    return AdyenAcquirer(config(), clock=lambda: NOW)
