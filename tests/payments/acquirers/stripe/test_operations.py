"""Capture (full and partial), void and refund (full and partial) through Stripe.

Stripe pages: https://docs.stripe.com/api/payment_intents/capture (amount_to_capture),
https://docs.stripe.com/api/payment_intents/cancel, https://docs.stripe.com/api/refunds/create,
https://docs.stripe.com/api/refunds/object (statuses), https://docs.stripe.com/error-codes
(payment_intent_unexpected_state, charge_already_refunded, amount_too_large).
"""

import pytest
import requests
import responses

from payments.acquirers.base import AcquirerUnavailable, Outcome
from tests.payments.acquirers.stripe.fake import (
    INTENT_ID,
    INTENT_URL,
    REFUNDS,
    api_error,
    conflict,
    get,
    idempotency_error,
    intent,
    invalid_request,
    post,
    refund,
)

CAPTURE_KEY = "idem_2m7QbVx0LrT5cKzA9eWq4N8dXy3Jk1Pb-capture"
VOID_KEY = "idem_2m7QbVx0LrT5cKzA9eWq4N8dXy3Jk1Pb-void"
REFUND_KEY = "refund-5d41402abc4b2a76b9719d911017c592"
UNAVAILABLE_ANSWERS = [
    {"body": requests.ReadTimeout()},
    {"body": requests.ConnectionError("('Connection aborted.', RemoteDisconnected())")},
    {"status": 500, "json": api_error()},
    {"status": 503, "body": "<html>down</html>"},
    {"status": 409, "json": conflict()},
    {"status": 429, "json": {"error": {"type": "invalid_request_error", "code": "rate_limit", "message": "Slow"}}},
    {"status": 401, "json": {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}},
    {"status": 403, "json": {"error": {"type": "invalid_request_error", "message": "Forbidden"}}},
    {"status": 400, "json": idempotency_error()},
    {"status": 200, "body": "not json"},
]
UNAVAILABLE_IDS = [
    "timeout",
    "dropped",
    "500",
    "503",
    "409",
    "429",
    "401-key-revoked",
    "403",
    "idempotency",
    "not-json",
]


def captured(amount):
    return intent("succeeded", amount_capturable=0, amount_received=amount)


def expect_capture(fake, amount=3300, **answer):
    if not answer:
        answer = {"json": captured(amount)}
    fake.add(
        responses.POST,
        f"{INTENT_URL}/capture",
        match=post(f"{CAPTURE_KEY}:capture", {"amount_to_capture": str(amount)}),
        **answer,
    )


def capture(acquirer, amount=3300):
    return acquirer.capture(reference=INTENT_ID, amount=amount, idempotency_key=CAPTURE_KEY)


def test_a_full_capture(fake, acquirer):
    expect_capture(fake)

    result = capture(acquirer)

    assert result.outcome == Outcome.SUCCEEDED and result.ok
    assert result.reference == INTENT_ID
    assert result.raw["amount_received"] == 3300


def test_a_partial_capture_sends_the_amount_to_capture(fake, acquirer):
    expect_capture(fake, 2000)

    result = capture(acquirer, 2000)

    assert result.outcome == Outcome.SUCCEEDED
    assert result.raw["amount_received"] == 2000


def test_a_capture_of_an_intent_already_captured_is_a_success(fake, acquirer):
    expect_capture(
        fake,
        status=400,
        json=invalid_request("payment_intent_unexpected_state", "This PaymentIntent has already been captured."),
    )
    fake.add(responses.GET, INTENT_URL, match=get(), json=captured(3300))

    assert capture(acquirer).outcome == Outcome.SUCCEEDED


def test_a_capture_of_an_expired_authorisation_is_refused_for_good(fake, acquirer):
    expect_capture(
        fake,
        status=400,
        json=invalid_request("payment_intent_unexpected_state", "This PaymentIntent could not be captured."),
    )
    fake.add(responses.GET, INTENT_URL, match=get(), json=intent("canceled", cancellation_reason="automatic"))

    result = capture(acquirer)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "processing_error")
    assert "canceled or has expired" in result.failure_message


def test_a_capture_above_the_authorisation_is_refused(fake, acquirer):
    expect_capture(fake, 5000, status=400, json=invalid_request("amount_too_large", "Too large", "amount_to_capture"))

    result = capture(acquirer, 5000)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "processing_error")
    assert "amount_too_large" in result.failure_message


@pytest.mark.parametrize(
    "answer", [*UNAVAILABLE_ANSWERS, {"json": intent("processing")}], ids=[*UNAVAILABLE_IDS, "processing"]
)
def test_a_capture_without_a_definitive_answer_raises_unavailable(fake, acquirer, answer):
    expect_capture(fake, **answer)

    with pytest.raises(AcquirerUnavailable) as raised:
        capture(acquirer)

    assert len(fake.calls) == 1  # the caller retries later with the same key, not us
    assert raised.value.__context__ is None and raised.value.__cause__ is None


def test_void_cancels_the_intent(fake, acquirer):
    fake.add(
        responses.POST,
        f"{INTENT_URL}/cancel",
        match=post(f"{VOID_KEY}:void", None),
        json=intent("canceled", cancellation_reason="requested_by_customer"),
    )

    result = acquirer.void(reference=INTENT_ID, idempotency_key=VOID_KEY)

    assert result.outcome == Outcome.SUCCEEDED and result.reference == INTENT_ID


def test_void_of_an_intent_already_canceled_is_a_success(fake, acquirer):
    fake.add(
        responses.POST,
        f"{INTENT_URL}/cancel",
        status=400,
        json=invalid_request("payment_intent_unexpected_state", "This PaymentIntent is already canceled."),
    )
    fake.add(responses.GET, INTENT_URL, match=get(), json=intent("canceled"))

    assert acquirer.void(reference=INTENT_ID, idempotency_key=VOID_KEY).outcome == Outcome.SUCCEEDED


def test_void_of_a_captured_intent_is_refused(fake, acquirer):
    fake.add(
        responses.POST,
        f"{INTENT_URL}/cancel",
        status=400,
        json=invalid_request("payment_intent_unexpected_state", "You cannot cancel this PaymentIntent."),
    )
    fake.add(responses.GET, INTENT_URL, match=get(), json=captured(3300))

    result = acquirer.void(reference=INTENT_ID, idempotency_key=VOID_KEY)

    assert result.outcome == Outcome.DECLINED
    assert "already captured" in result.failure_message


@pytest.mark.parametrize("answer", UNAVAILABLE_ANSWERS, ids=UNAVAILABLE_IDS)
def test_void_without_a_definitive_answer_raises_unavailable(fake, acquirer, answer):
    fake.add(responses.POST, f"{INTENT_URL}/cancel", **answer)

    with pytest.raises(AcquirerUnavailable):
        acquirer.void(reference=INTENT_ID, idempotency_key=VOID_KEY)


def expect_refund(fake, amount, **answer):
    if not answer:
        answer = {"json": refund(amount=amount)}
    form = {"payment_intent": INTENT_ID, "amount": str(amount), "metadata[payplug_idempotency_key]": REFUND_KEY}
    fake.add(responses.POST, REFUNDS, match=post(f"{REFUND_KEY}:refund", form), **answer)


@pytest.mark.parametrize("amount", [3300, 1200], ids=["full", "partial"])
def test_a_refund(fake, acquirer, amount):
    expect_refund(fake, amount)

    result = acquirer.refund(reference=INTENT_ID, amount=amount, idempotency_key=REFUND_KEY)

    assert result.outcome == Outcome.SUCCEEDED
    assert result.reference == "re_3MtwBwLkdIwHu7ix0Xp6Fake"  # the refund's own id
    assert result.raw["amount"] == amount


def test_a_pending_refund_is_accepted(fake, acquirer):
    expect_refund(fake, 1200, json=refund("pending", amount=1200))

    result = acquirer.refund(reference=INTENT_ID, amount=1200, idempotency_key=REFUND_KEY)

    assert result.outcome == Outcome.SUCCEEDED and result.raw["status"] == "pending"


def test_a_failed_refund_is_refused(fake, acquirer):
    expect_refund(fake, 1200, json=refund("failed", amount=1200, failure_reason="expired_or_canceled_card"))

    result = acquirer.refund(reference=INTENT_ID, amount=1200, idempotency_key=REFUND_KEY)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "processing_error")
    assert "expired_or_canceled_card" in result.failure_message


@pytest.mark.parametrize("code", ["charge_already_refunded", "amount_too_large", "charge_disputed"])
def test_a_refund_refused_by_stripe(fake, acquirer, code):
    expect_refund(fake, 3300, status=400, json=invalid_request(code, "Refused", "amount"))

    result = acquirer.refund(reference=INTENT_ID, amount=3300, idempotency_key=REFUND_KEY)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "processing_error")
    assert code in result.failure_message


@pytest.mark.parametrize(
    "answer",
    [*UNAVAILABLE_ANSWERS, {"json": refund(id="not an id")}, {"json": intent("succeeded")}],
    ids=[*UNAVAILABLE_IDS, "bad-id", "not-a-refund"],
)
def test_a_refund_without_a_definitive_answer_raises_unavailable(fake, acquirer, answer):
    expect_refund(fake, 3300, **answer)

    with pytest.raises(AcquirerUnavailable):
        acquirer.refund(reference=INTENT_ID, amount=3300, idempotency_key=REFUND_KEY)


@pytest.mark.parametrize(
    "call",
    [
        lambda a: a.capture(reference="ch_123", amount=100, idempotency_key="k"),
        lambda a: a.capture(reference=INTENT_ID, amount=0, idempotency_key="k"),
        lambda a: a.void(reference="", idempotency_key="k"),
        lambda a: a.refund(reference=INTENT_ID, amount=-5, idempotency_key="k"),
        lambda a: a.refund(reference=INTENT_ID, amount=5, idempotency_key="bad key"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_sent(fake, acquirer, call):
    with pytest.raises(ValueError):
        call(acquirer)
    assert len(fake.calls) == 0
