"""Stripe webhooks: verified with the SDK's signature check, translated into AcquirerEvents.

Deliveries are signed here the documented way, independently of the SDK: header
``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the endpoint
secret>``, rejected past a 300 s tolerance (https://docs.stripe.com/webhooks/signatures).
Event types: https://docs.stripe.com/api/events/types; objects: https://docs.stripe.com/api/payment_intents/object,
https://docs.stripe.com/api/charges/object, https://docs.stripe.com/api/refunds/object,
https://docs.stripe.com/api/disputes/object.
"""

import json
import time

import pytest

from payments.acquirers.base import ConnectorConfig, InvalidNotification
from payments.acquirers.stripe_acquirer import StripeAcquirer
from tests.payments.acquirers.stripe.fake import (
    API_KEY,
    CHARGE_ID,
    INTENT_ID,
    KEY,
    charge,
    declined_intent,
    dispute,
    event,
    intent,
    refund,
    signed,
)


def parse(acquirer, body, **signing):
    raw, headers = signed(body, **signing)
    return acquirer.parse_notification(raw, headers)


def only(events):
    assert len(events) == 1
    return events[0]


def test_an_authorisation_event(fake, acquirer):
    result = only(parse(acquirer, event("payment_intent.amount_capturable_updated", intent("requires_capture"))))

    assert result.kind == "authorized"
    assert result.provider_event_id == "evt_1NG8Du2eZvKYlo2CUI79vXWy"
    assert (result.reference, result.idempotency_key) == (INTENT_ID, KEY)
    assert (result.amount, result.currency) == (3300, "EUR")
    assert result.raw_type == "payment_intent.amount_capturable_updated"
    assert result.created_at == 1795512720  # orders events that arrive out of order


def test_a_partial_capture_event_carries_the_amount_received(fake, acquirer):
    succeeded = intent("succeeded", amount_received=2000, latest_charge=CHARGE_ID)

    result = only(parse(acquirer, event("payment_intent.succeeded", succeeded)))

    assert (result.kind, result.amount, result.operation_reference) == ("captured", 2000, CHARGE_ID)


def test_a_failed_authorisation_carries_our_failure_code(fake, acquirer):
    failed = declined_intent("card_declined", "lost_card")

    result = only(parse(acquirer, event("payment_intent.payment_failed", failed)))

    assert (result.kind, result.failure_code) == ("authorization_failed", "card_declined")
    assert "lost or stolen" in result.failure_message


def test_a_canceled_intent(fake, acquirer):
    canceled = intent("canceled", cancellation_reason="automatic")

    result = only(parse(acquirer, event("payment_intent.canceled", canceled)))

    assert (result.kind, result.reference, result.failure_message) == ("canceled", INTENT_ID, "automatic")


def test_a_refunded_charge_carries_the_total_refunded(fake, acquirer):
    refunded = charge(amount_refunded=1200, refunded=False, metadata={"payplug_idempotency_key": KEY})

    result = only(parse(acquirer, event("charge.refunded", refunded)))

    assert (result.kind, result.reference, result.amount) == ("refunded", INTENT_ID, 1200)
    assert result.operation_reference == CHARGE_ID


@pytest.mark.parametrize(
    ("status", "kind"),
    [("succeeded", "refunded"), ("failed", "refund_failed"), ("canceled", "refund_failed"), ("pending", "ignored")],
)
def test_a_refund_update(fake, acquirer, status, kind):
    updated = refund(status, amount=1200, failure_reason="lost_or_stolen_card" if status == "failed" else None)

    result = only(parse(acquirer, event("charge.refund.updated", updated)))

    assert (result.kind, result.reference, result.amount) == (kind, INTENT_ID, 1200)
    assert result.operation_reference == "re_3MtwBwLkdIwHu7ix0Xp6Fake"
    assert result.idempotency_key == "refund-key"
    if status == "failed":
        assert result.failure_code == "processing_error" and "lost_or_stolen_card" in result.failure_message


@pytest.mark.parametrize(
    ("event_type", "status", "kind"),
    [
        ("charge.dispute.created", "needs_response", "dispute_opened"),
        ("charge.dispute.closed", "won", "dispute_won"),
        ("charge.dispute.closed", "lost", "dispute_lost"),
        ("charge.dispute.closed", "warning_closed", "ignored"),
    ],
)
def test_disputes(fake, acquirer, event_type, status, kind):
    result = only(parse(acquirer, event(event_type, dispute(status, reason="fraudulent"))))

    assert (result.kind, result.reference, result.amount, result.currency) == (kind, INTENT_ID, 3300, "EUR")
    assert result.operation_reference == "du_1MtJUT2eZvKYlo2CNaw2HvEv"
    assert result.failure_code == "fraudulent"  # the dispute's reason feeds the fraud labels


@pytest.mark.parametrize(
    "event_type", ["customer.created", "payment_intent.created", "charge.succeeded", "payout.paid"]
)
def test_other_events_are_ignored(fake, acquirer, event_type):
    result = only(parse(acquirer, event(event_type, {"id": "cus_NffrFeUfNV2Hib", "object": "customer"})))

    assert result.kind == "ignored" and result.raw_type == event_type


def test_a_redelivered_event_gives_the_same_event_twice(fake, acquirer):
    body = event("payment_intent.amount_capturable_updated", intent("requires_capture"))

    first, second = only(parse(acquirer, body)), only(parse(acquirer, body))

    assert first == second and first.provider_event_id == second.provider_event_id


def test_the_signature_header_name_is_case_insensitive(fake, acquirer):
    raw, headers = signed(event("payment_intent.canceled", intent("canceled")))

    result = only(acquirer.parse_notification(raw, {"stripe-signature": headers["Stripe-Signature"]}))

    assert result.kind == "canceled"


GOOD = event("payment_intent.amount_capturable_updated", intent("requires_capture"))


def test_a_bad_signature_is_rejected(fake, acquirer):
    with pytest.raises(InvalidNotification):
        parse(acquirer, GOOD, secret="whsec_someone_else")


def test_a_tampered_body_is_rejected(fake, acquirer):
    raw, headers = signed(GOOD)

    with pytest.raises(InvalidNotification):
        acquirer.parse_notification(raw.replace(b"3300", b"9900"), headers)


def test_a_stale_timestamp_is_rejected(fake, acquirer):
    with pytest.raises(InvalidNotification):
        parse(acquirer, GOOD, timestamp=int(time.time()) - 301)


def test_a_timestamp_within_the_tolerance_is_accepted(fake, acquirer):
    assert only(parse(acquirer, GOOD, timestamp=int(time.time()) - 240)).kind == "authorized"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Stripe-Signature": ""}, {"Stripe-Signature": "garbage"}, {"Stripe-Signature": "t=abc,v1=00"}],
    ids=["missing", "empty", "garbage", "bad-timestamp"],
)
def test_a_missing_or_unreadable_signature_is_rejected(fake, acquirer, headers):
    raw, _ = signed(GOOD)

    with pytest.raises(InvalidNotification):
        acquirer.parse_notification(raw, headers)


def test_without_an_endpoint_secret_everything_is_rejected(fake):
    acquirer = StripeAcquirer(ConnectorConfig(api_key=API_KEY))

    with pytest.raises(InvalidNotification):
        parse(acquirer, GOOD)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        json.dumps(["an", "array"]).encode(),
        json.dumps({"object": "list"}).encode(),
        event("payment_intent.succeeded", charge()),  # the wrong object for the type
        event("payment_intent.succeeded", intent("succeeded", amount_received="2000")),
        event("payment_intent.succeeded", intent("succeeded", currency=None)),
        event("charge.refunded", charge(payment_intent=None)),
        event("charge.dispute.created", dispute(amount=-1)),
        event("charge.refund.updated", refund("wonderful")),
        event("payment_intent.canceled", intent("canceled"), livemode=True),  # a live event at a test endpoint
        event("payment_intent.canceled", intent("canceled"), id="evt with spaces"),
        {**event("payment_intent.canceled", intent("canceled")), "data": None},
    ],
    ids=[
        "not-json",
        "not-utf8",
        "array",
        "not-an-event",
        "wrong-object",
        "amount-as-text",
        "no-currency",
        "no-intent",
        "negative-amount",
        "unknown-refund-status",
        "other-environment",
        "bad-event-id",
        "no-data",
    ],
)
def test_a_signed_body_that_does_not_match_the_schema_is_rejected(fake, acquirer, body):
    with pytest.raises(InvalidNotification):
        parse(acquirer, body)
