"""3-D Secure with Stripe: the shopper comes back from Stripe's challenge and the intent is re-read.

Stripe pages: https://docs.stripe.com/payments/3d-secure, https://docs.stripe.com/api/payment_intents/retrieve,
https://docs.stripe.com/api/payment_intents/cancel, https://docs.stripe.com/error-codes
(payment_intent_authentication_failure).
"""

import pytest
import requests
import responses

from payments.acquirers.base import Outcome
from tests.payments.acquirers.stripe.fake import (
    INTENT_ID,
    INTENT_URL,
    INTENTS,
    KEY,
    REDIRECT,
    authorization_form,
    authorize,
    charge,
    declined_intent,
    get,
    intent,
    invalid_request,
    post,
)

THREE_DS_KEY = f"{KEY}-3ds"
CHALLENGE = {"type": "redirect_to_url", "redirect_to_url": {"url": REDIRECT, "return_url": "https://x.test"}}
CHALLENGED = {"authentication_flow": "challenge", "result": "authenticated", "version": "2.2.0"}


def expect_reread(fake, **answer):
    fake.add(responses.GET, INTENT_URL, match=get({"expand[0]": "latest_charge"}), **answer)


def complete(acquirer, authenticated=True):
    return acquirer.complete_3ds(reference=INTENT_ID, authenticated=authenticated, idempotency_key=THREE_DS_KEY)


def test_a_challenge_passed_reads_the_authorised_intent(fake, acquirer):
    fake.add(
        responses.POST,
        INTENTS,
        match=post(f"{KEY}:authorize", authorization_form()),
        json=intent("requires_action", next_action=CHALLENGE),
    )
    expect_reread(fake, json=intent("requires_capture", latest_charge=charge(three_d_secure=CHALLENGED)))

    challenge = authorize(acquirer)
    completed = complete(acquirer)

    assert challenge.outcome == Outcome.REQUIRES_3DS and challenge.redirect_url == REDIRECT
    assert completed.outcome == Outcome.AUTHORIZED
    assert completed.reference == INTENT_ID
    assert completed.is_3ds and not completed.three_ds_frictionless
    assert completed.card_country == "FR"


def test_a_failed_authentication_is_3ds_declined(fake, acquirer):
    expect_reread(fake, json=declined_intent("payment_intent_authentication_failure", None))

    result = complete(acquirer)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "3ds_declined")
    assert result.is_3ds and result.reference == INTENT_ID


def test_the_issuer_can_still_decline_after_the_challenge(fake, acquirer):
    expect_reread(fake, json=declined_intent("card_declined", "insufficient_funds"))

    result = complete(acquirer)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "card_declined")
    assert "insufficient funds" in result.failure_message


def test_a_challenge_still_open_is_handed_back(fake, acquirer):
    expect_reread(fake, json=intent("requires_action", next_action=CHALLENGE))

    result = complete(acquirer)

    assert result.outcome == Outcome.REQUIRES_3DS
    assert result.redirect_url == REDIRECT


def test_an_abandoned_challenge_cancels_the_intent(fake, acquirer):
    fake.add(
        responses.POST,
        f"{INTENT_URL}/cancel",
        match=post(f"{THREE_DS_KEY}:cancel", None),
        json=intent("canceled", cancellation_reason="abandoned", canceled_at=1795512700),
    )

    result = complete(acquirer, authenticated=False)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "3ds_declined")
    assert result.reference == INTENT_ID


@pytest.mark.parametrize("status", ["canceled", "requires_payment_method"])
def test_an_abandoned_challenge_that_stripe_already_ended_is_3ds_declined(fake, acquirer, status):
    fake.add(
        responses.POST,
        f"{INTENT_URL}/cancel",
        status=400,
        json=invalid_request("payment_intent_unexpected_state", f"You cannot cancel it: its status is {status}."),
    )
    fake.add(responses.GET, INTENT_URL, match=get(), json=intent(status))

    result = complete(acquirer, authenticated=False)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "3ds_declined")


def test_a_cancellation_without_an_answer_is_unknown(fake, acquirer):
    fake.add(responses.POST, f"{INTENT_URL}/cancel", body=requests.ReadTimeout())

    result = complete(acquirer, authenticated=False)

    assert result.outcome == Outcome.UNKNOWN and result.is_3ds
    assert len(fake.calls) == 1


@pytest.mark.parametrize(
    "answer",
    [{"body": requests.ReadTimeout()}, {"status": 502, "body": "Bad gateway"}, {"json": intent("processing")}],
    ids=["timeout", "502", "processing"],
)
def test_a_reread_without_a_usable_answer_is_unknown(fake, acquirer, answer):
    expect_reread(fake, **answer)

    result = complete(acquirer)

    assert result.outcome == Outcome.UNKNOWN
    assert len(fake.calls) == 1


def test_an_intent_stripe_does_not_know_is_an_error(fake, acquirer):
    expect_reread(fake, status=404, json=invalid_request("resource_missing", "No such payment_intent", "intent"))

    result = complete(acquirer)

    assert (result.outcome, result.failure_code) == (Outcome.ERROR, "processing_error")


def test_a_reference_that_is_not_an_intent_is_refused(fake, acquirer):
    with pytest.raises(ValueError):
        acquirer.complete_3ds(reference="pi_1/../../v1/refunds", authenticated=True, idempotency_key=THREE_DS_KEY)
    assert len(fake.calls) == 0
