"""Which acquirers may take a payment: the merchant's route for the mode, or the defaults.

Pure decisions and constructors: nothing here calls the network or writes to the database.

* `candidates(merchant, is_live, brand=, amount=, country=)`: the enabled connectors of the
  merchant's matching routes (same merchant, same mode), in route order, each once. A merchant
  with no route at all in a mode gets the default: the sandbox in test mode; in live mode what the
  `LIVE_ACQUIRER` setting said before routes existed (the sandbox, or the generic HTTP acquirer
  configured by `ACQUIRER_URL` / `ACQUIRER_API_KEY`). The default is an unsaved connector
  (`pk` None, see `is_default`). A merchant with routes of which none matches (or whose connectors
  are all disabled) gets an empty list: the payment cannot be routed, it is not sent to a default
  the merchant did not choose.
* `connector_config(connector)`: the `ConnectorConfig`, secrets unsealed in memory only.
* `build(connector)`: the connector's `Acquirer` (constructing one never calls out).

See docs/acquirers/routing.md.
"""

from __future__ import annotations

from django.conf import settings

from payments.acquirers.adyen_acquirer import AdyenAcquirer
from payments.acquirers.base import Acquirer, ConnectorConfig
from payments.acquirers.http import HttpAcquirer
from payments.acquirers.sandbox import SandboxAcquirer
from payments.acquirers.stripe_acquirer import StripeAcquirer
from payments.models import AcquirerConnector, AcquirerRoute

Provider = AcquirerConnector.Provider


def default_connector(merchant, is_live: bool) -> AcquirerConnector:
    """The acquirer of a merchant without a route in this mode (unsaved, never stored)."""
    if not is_live or settings.LIVE_ACQUIRER == "sandbox":
        provider, label = Provider.SANDBOX, "sandbox (default)"
    else:
        provider, label = Provider.GENERIC_HTTP, "LIVE_ACQUIRER (default)"
    return AcquirerConnector(
        merchant=merchant, is_live=is_live, provider=provider, label=label, test_environment=not is_live
    )


def is_default(connector: AcquirerConnector) -> bool:
    return connector.pk is None


def candidates(
    merchant, is_live: bool, *, brand: str | None, amount: int, country: str | None
) -> list[AcquirerConnector]:
    """The connectors to try for this payment, in order (see the module docstring)."""
    routes = list(
        AcquirerRoute.objects.for_tenant(merchant, is_live).select_related("connector").order_by("position", "pk")
    )
    if not routes:
        return [default_connector(merchant, is_live)]
    chosen: list[AcquirerConnector] = []
    seen: set[int] = set()
    for route in routes:
        connector = route.connector
        # Enforced on save (AcquirerRoute.clean) and again here: another tenant's connector never runs.
        if connector.merchant_id != merchant.pk or connector.is_live != is_live:
            continue
        if not connector.is_enabled or connector.pk in seen:
            continue
        if route.matches(brand=brand, amount=amount, country=country):
            seen.add(connector.pk)
            chosen.append(connector)
    return chosen


def _default_base_url(connector: AcquirerConnector) -> str:
    if connector.provider == Provider.STRIPE:
        return settings.STRIPE_API_BASE
    if connector.provider == Provider.ADYEN:
        if connector.test_environment:
            return settings.ADYEN_CHECKOUT_TEST_URL
        if not connector.live_url_prefix:
            return ""  # AdyenAcquirer refuses it: live needs the prefix
        return settings.ADYEN_CHECKOUT_LIVE_URL_TEMPLATE.replace("{prefix}", connector.live_url_prefix)
    if connector.provider == Provider.GENERIC_HTTP:
        return settings.ACQUIRER_URL
    return ""


def connector_config(connector: AcquirerConnector) -> ConnectorConfig:
    """What the connector class needs, credentials unsealed in memory. Never log or store it."""
    api_key = connector.unseal("api_key")
    if is_default(connector) and connector.provider == Provider.GENERIC_HTTP:
        api_key = settings.ACQUIRER_API_KEY
    return ConnectorConfig(
        api_key=api_key,
        webhook_secret=connector.unseal("webhook_secret"),
        merchant_account=connector.merchant_account,
        base_url=connector.base_url or _default_base_url(connector),
        test_environment=connector.test_environment,
        timeout=settings.ACQUIRER_TIMEOUT_SECONDS,
    )


def build(connector: AcquirerConnector) -> Acquirer:
    """The Acquirer for this connector. Raises ValueError / ImproperlyConfigured for a configuration
    that cannot work (the connector classes check it); never calls the provider."""
    if connector.provider == Provider.SANDBOX:
        return SandboxAcquirer()
    config = connector_config(connector)
    if connector.provider == Provider.GENERIC_HTTP:
        return HttpAcquirer(base_url=config.base_url, api_key=config.api_key, timeout_seconds=config.timeout)
    if connector.provider == Provider.STRIPE:
        return StripeAcquirer(config)
    if connector.provider == Provider.ADYEN:
        management = (
            settings.ADYEN_MANAGEMENT_TEST_URL if connector.test_environment else settings.ADYEN_MANAGEMENT_LIVE_URL
        )
        return AdyenAcquirer(config, live_url_prefix=connector.live_url_prefix, management_base_url=management)
    raise ValueError(f"unknown acquirer provider {connector.provider!r}")
