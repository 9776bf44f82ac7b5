"""The Stripe connector's configuration (per merchant, no global state) and card-data sealing.

Stripe pages: https://docs.stripe.com/keys (sk_test_/sk_live_), https://docs.stripe.com/api/versioning
(Stripe-Version), https://docs.stripe.com/api/payment_intents/create, https://docs.stripe.com/api/errors.
"""

import logging
import re

import pytest
import requests
import responses
import stripe

from payments.acquirers.base import AcquirerUnavailable, ConnectorConfig, Outcome
from payments.acquirers.stripe_acquirer import API_VERSION, StripeAcquirer
from tests.payments.acquirers.stripe.fake import (
    API_KEY,
    CVC,
    INTENT_ID,
    INTENTS,
    KEY,
    NUMBER,
    authorization_form,
    authorize,
    card_error,
    intent,
    post,
)


@pytest.mark.parametrize(
    "base_url",
    ["http://example.com", "ftp://127.0.0.1", "https://user:secret@proxy.test", "https://proxy.test/?x=1", "nope"],
)
def test_a_base_url_that_is_not_https_or_loopback_is_refused(base_url):
    with pytest.raises(ValueError) as raised:
        StripeAcquirer(ConnectorConfig(api_key=API_KEY, base_url=base_url))
    assert "secret" not in str(raised.value)


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [("http://127.0.0.1:12111/", "http://127.0.0.1:12111"), ("https://egress.internal/stripe", None)],
)
def test_the_base_url_is_where_requests_go(base_url, expected):
    acquirer = StripeAcquirer(ConnectorConfig(api_key=API_KEY, base_url=base_url))
    with responses.RequestsMock(assert_all_requests_are_fired=True) as fake:
        fake.post(f"{expected or base_url}/v1/payment_intents", json=intent("requires_capture"))

        assert authorize(acquirer).outcome == Outcome.AUTHORIZED


@pytest.mark.parametrize(
    ("api_key", "test_environment"),
    [("", True), ("sk_live_abc", True), ("sk_test_abc", False), ("pk_test_abc", True), (None, True)],
)
def test_a_key_of_the_wrong_environment_is_refused(api_key, test_environment):
    with pytest.raises(ValueError):
        StripeAcquirer(ConnectorConfig(api_key=api_key, test_environment=test_environment))


def test_a_live_connector_accepts_a_live_key():
    assert StripeAcquirer(ConnectorConfig(api_key="sk_live_abc", test_environment=False)).name == "stripe"


def test_a_timeout_is_required():
    with pytest.raises(ValueError):
        StripeAcquirer(ConnectorConfig(api_key=API_KEY, timeout=0))


@pytest.mark.parametrize("level", ["debug", "info"])
def test_the_sdks_console_logging_is_refused(monkeypatch, level):
    monkeypatch.setattr(stripe._util, "STRIPE_LOG", level)  # what STRIPE_LOG=debug gives at import

    with pytest.raises(ValueError):
        StripeAcquirer(ConnectorConfig(api_key=API_KEY))


def test_the_sdks_global_console_switch_is_refused(monkeypatch):
    monkeypatch.setattr(stripe, "log", "debug")

    with pytest.raises(ValueError):
        StripeAcquirer(ConnectorConfig(api_key=API_KEY))


def test_each_connector_sends_its_own_key_and_the_pinned_version(fake):
    first = StripeAcquirer(ConnectorConfig(api_key="sk_test_merchant_one"))
    second = StripeAcquirer(ConnectorConfig(api_key="sk_test_merchant_two"))
    fake.post(INTENTS, json=intent("requires_capture"))
    fake.post(INTENTS, json=intent("requires_capture"))

    authorize(first)
    authorize(second)

    sent = [(call.request.headers["Authorization"], call.request.headers["Stripe-Version"]) for call in fake.calls]
    assert sent == [("Bearer sk_test_merchant_one", API_VERSION), ("Bearer sk_test_merchant_two", API_VERSION)]
    assert stripe.api_key is None  # nothing went through the SDK's global configuration


def test_the_sdks_own_retries_are_off(fake, acquirer):
    fake.post(INTENTS, body=requests.ConnectTimeout())
    fake.post(INTENTS, json=intent("requires_capture"))  # what an SDK retry would get
    fake.assert_all_requests_are_fired = False

    assert authorize(acquirer).outcome == Outcome.UNKNOWN
    assert len(fake.calls) == 1


def test_the_connector_does_not_show_its_key(acquirer):
    assert API_KEY not in repr(acquirer) and API_KEY not in str(acquirer)


# --- card data -----------------------------------------------------------------------------------

CVC_ALONE = re.compile(rf"(?<![0-9]){CVC}(?![0-9])")


def assert_no_card_data(text):
    assert NUMBER not in text, "the card number leaked"
    assert not CVC_ALONE.search(text), "the security code leaked"


def logged(caplog):
    return caplog.text + "".join(
        f"{record.getMessage()} {record.args!r} {record.__dict__!r}" for record in caplog.records
    )


def test_card_number_and_cvc_never_reach_logs_results_or_exceptions(fake, acquirer, caplog):
    caplog.set_level(logging.DEBUG)  # every logger: stripe, urllib3, requests included
    form = authorization_form()
    echo = f"card {NUMBER} cvc {CVC}"
    fake.add(responses.POST, INTENTS, match=post(f"{KEY}:authorize", form), json=intent("requires_capture"))
    fake.add(responses.POST, INTENTS, status=402, json=card_error("incorrect_cvc", None, message=f"wrong {echo}"))
    fake.add(responses.POST, INTENTS, body=requests.ReadTimeout(f"timed out sending {echo}"))
    fake.add(responses.POST, INTENTS, status=400, json={"error": {"type": "invalid_request_error", "message": echo}})
    fake.add(responses.POST, INTENTS, status=500, body=f"<html>{echo}</html>")
    fake.add(responses.POST, f"{INTENTS}/{INTENT_ID}/capture", body=requests.ConnectionError(echo))

    results = [authorize(acquirer, idempotency_key=f"{KEY}{attempt or ''}") for attempt in range(5)]
    with pytest.raises(AcquirerUnavailable) as raised:
        acquirer.capture(reference=INTENT_ID, amount=3300, idempotency_key="k")

    assert [result.outcome for result in results] == [
        Outcome.AUTHORIZED,
        Outcome.DECLINED,
        Outcome.UNKNOWN,
        Outcome.ERROR,
        Outcome.UNKNOWN,
    ]
    text = logged(caplog)
    assert KEY in text and NUMBER[-4:] in text  # it does log the key and the last four digits
    assert_no_card_data(text)
    for thing in [*results, raised.value]:
        assert_no_card_data(repr(thing))
        assert_no_card_data(str(thing))
    assert raised.value.__context__ is None and raised.value.__cause__ is None


def test_the_log_check_can_fail(fake, acquirer, caplog):
    # Proof that the scan above sees the SDK's records: without our filter, the SDK logs the body.
    caplog.set_level(logging.DEBUG)
    sdk_logger = logging.getLogger("stripe")
    filters = list(sdk_logger.filters)
    fake.post(INTENTS, json=intent("requires_capture"))
    try:
        for existing in filters:
            sdk_logger.removeFilter(existing)
        authorize(acquirer)
    finally:
        for existing in filters:
            sdk_logger.addFilter(existing)

    with pytest.raises(AssertionError):
        assert_no_card_data(logged(caplog))


def test_results_keep_no_sdk_object(fake, acquirer):
    fake.post(INTENTS, json=intent("requires_capture"))

    result = authorize(acquirer)

    # The SDK's objects remember the request's parameters (card included): none is kept.
    assert all(not isinstance(value, stripe.StripeObject) for value in result.raw.values())
    assert_no_card_data(repr(result.raw))


def test_the_pinned_api_version_is_the_one_the_sdk_was_built_for():
    # Upgrading the SDK changes its types' API version: review Stripe's changelog, then move the pin.
    assert API_VERSION == "2026-10-28.endive" == stripe.api_version
