"""Inquiry: settling an authorisation whose answer was lost, without ever creating a second one.

Stripe pages: https://stripe.com/docs/api/payment_intents/search, https://docs.stripe.com/search
(query language, data freshness), https://docs.stripe.com/api/idempotent_requests (saved results,
parameter comparison, 24-hour expiry), https://docs.stripe.com/api/payment_intents/cancel.
"""

import pytest
import requests
import responses

from payments.acquirers.base import AcquirerUnavailable, Outcome
from tests.payments.acquirers.stripe.fake import (
    INTENT_ID,
    INTENTS,
    KEY,
    REDIRECT,
    api_error,
    authorization_form,
    authorize,
    conflict,
    declined_intent,
    get,
    idempotency_error,
    intent,
    post,
    search_result,
)

SEARCH = f"{INTENTS}/search"
QUERY = {"query": f"metadata['payplug_idempotency_key']:'{KEY}'", "limit": "10", "expand[0]": "data.latest_charge"}
FENCE_ID = "pi_3MtwFenceLkdIwHu7ix0000"
FENCE_FORM = {
    "amount": "100",
    "currency": "eur",
    "capture_method": "manual",
    "confirm": "false",
    "payment_method_types[0]": "card",
    "description": "Inquiry fence: never confirmed, charges nothing",
    "metadata[payplug_idempotency_key]": KEY,
    "metadata[payplug_inquiry_fence]": "1",
}


def fence_intent(status="requires_payment_method"):
    return intent(
        status,
        id=FENCE_ID,
        amount=100,
        latest_charge=None,
        payment_method=None,
        metadata={"payplug_idempotency_key": KEY, "payplug_inquiry_fence": "1"},
    )


def expect_search(fake, *intents, **answer):
    if not answer:
        answer = {"json": search_result(*intents)}
    fake.add(responses.GET, SEARCH, match=get(QUERY), **answer)


def expect_fence(fake, **answer):
    fake.add(responses.POST, INTENTS, match=post(f"{KEY}:authorize", FENCE_FORM), **answer)


def expect_fence_cancel(fake):
    fake.add(
        responses.POST,
        f"{INTENTS}/{FENCE_ID}/cancel",
        match=post(f"{KEY}:fence-cancel", {"cancellation_reason": "abandoned"}),
        json=fence_intent("canceled"),
    )


def test_a_lost_answer_is_found_by_our_key_and_never_authorised_twice(fake, acquirer):
    fake.add(responses.POST, INTENTS, match=post(f"{KEY}:authorize", authorization_form()), body=requests.ReadTimeout())
    expect_search(fake, intent("requires_capture"))

    pending = authorize(acquirer)
    resolved = acquirer.inquire(idempotency_key=KEY)

    assert pending.outcome == Outcome.UNKNOWN
    assert resolved.outcome == Outcome.AUTHORIZED and resolved.reference == INTENT_ID
    confirmations = [call for call in fake.calls if call.request.method == "POST"]
    assert len(confirmations) == 1


def test_a_declined_authorisation_is_found_declined(fake, acquirer):
    expect_search(fake, declined_intent("expired_card", None))

    result = acquirer.inquire(idempotency_key=KEY)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "card_declined")
    assert "expired" in result.failure_message


def test_an_open_challenge_is_handed_back(fake, acquirer):
    challenge = {"type": "redirect_to_url", "redirect_to_url": {"url": REDIRECT}}
    expect_search(fake, intent("requires_action", next_action=challenge))

    result = acquirer.inquire(idempotency_key=KEY)

    assert result.outcome == Outcome.REQUIRES_3DS and result.redirect_url == REDIRECT


def test_an_intent_still_processing_settles_nothing(fake, acquirer):
    expect_search(fake, intent("processing"))

    with pytest.raises(AcquirerUnavailable):
        acquirer.inquire(idempotency_key=KEY)


def test_an_intent_of_another_key_is_not_ours(fake, acquirer):
    stranger = intent("requires_capture", metadata={"payplug_idempotency_key": KEY + "x"})
    expect_search(fake, stranger)
    expect_fence(fake, json=fence_intent())
    expect_fence_cancel(fake)

    result = acquirer.inquire(idempotency_key=KEY)

    assert result.outcome == Outcome.DECLINED


def test_nothing_found_fences_the_key_and_settles_as_not_authorised(fake, acquirer):
    expect_search(fake)
    expect_fence(fake, json=fence_intent())
    expect_fence_cancel(fake)

    result = acquirer.inquire(idempotency_key=KEY)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "processing_error")
    assert result.reference == ""  # the fence is not the payment's authorisation
    fence_request = fake.calls[1].request
    assert "card" not in fence_request.body.replace("payment_method_types[0]=card", "")  # no card, never confirmed


def test_a_second_inquiry_after_the_fence_gives_the_same_answer(fake, acquirer):
    # Search now finds the fence; Stripe replays the fence's creation and its cancellation.
    expect_search(fake, fence_intent("canceled"))
    expect_fence(fake, json=fence_intent())
    expect_fence_cancel(fake)

    result = acquirer.inquire(idempotency_key=KEY)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "processing_error")


def test_a_fence_that_is_not_canceled_still_settles(fake, acquirer):
    expect_search(fake)
    expect_fence(fake, json=fence_intent())
    fake.add(responses.POST, f"{INTENTS}/{FENCE_ID}/cancel", body=requests.ReadTimeout())

    result = acquirer.inquire(idempotency_key=KEY)

    assert result.outcome == Outcome.DECLINED


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 400, "json": idempotency_error()},  # the authorisation did start: not searchable yet
        {"status": 409, "json": conflict()},  # still executing
        {"status": 500, "json": api_error()},
        {"body": requests.ReadTimeout()},
        {"status": 401, "json": {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}},
        {"json": {"object": "list"}},
    ],
    ids=["idempotency-error", "409", "500", "timeout", "401", "malformed"],
)
def test_a_fence_that_cannot_be_set_settles_nothing(fake, acquirer, answer):
    expect_search(fake)
    expect_fence(fake, **answer)

    with pytest.raises(AcquirerUnavailable):
        acquirer.inquire(idempotency_key=KEY)


def test_a_fence_answered_with_the_original_authorisation_gives_its_outcome(fake, acquirer):
    expect_search(fake)
    expect_fence(fake, json=intent("requires_capture"))

    result = acquirer.inquire(idempotency_key=KEY)

    assert result.outcome == Outcome.AUTHORIZED and result.reference == INTENT_ID


@pytest.mark.parametrize(
    "answer",
    [
        {"body": requests.ReadTimeout()},
        {"body": requests.ConnectionError()},
        {"status": 500, "json": api_error()},
        {"status": 401, "json": {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}},
        {"json": {"object": "list", "data": []}},
        {"json": {"object": "search_result", "data": "nope"}},
    ],
    ids=["timeout", "dropped", "500", "401", "not-a-search-result", "bad-data"],
)
def test_a_search_without_a_usable_answer_settles_nothing_and_sets_no_fence(fake, acquirer, answer):
    expect_search(fake, **answer)

    with pytest.raises(AcquirerUnavailable) as raised:
        acquirer.inquire(idempotency_key=KEY)

    assert len(fake.calls) == 1
    assert raised.value.__context__ is None and raised.value.__cause__ is None


def test_several_intents_for_one_key_prefer_the_one_holding_money(fake, acquirer):
    expect_search(fake, declined_intent(id="pi_3Other0000000000000000"), intent("requires_capture"))

    result = acquirer.inquire(idempotency_key=KEY)

    assert result.outcome == Outcome.AUTHORIZED and result.reference == INTENT_ID
