import pytest
import responses

from payments.acquirers.base import ConnectorConfig
from payments.acquirers.stripe_acquirer import StripeAcquirer
from tests.payments.acquirers.stripe.fake import API_KEY, WEBHOOK_SECRET


@pytest.fixture
def fake():
    """Stripe, strictly: an unexpected request fails (no passthrough), every expected one must come."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def config():
    return ConnectorConfig(api_key=API_KEY, webhook_secret=WEBHOOK_SECRET, timeout=5)


@pytest.fixture
def acquirer(config):
    return StripeAcquirer(config)
