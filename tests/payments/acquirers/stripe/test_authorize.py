"""Stripe authorisations (PaymentIntents create-and-confirm), against the strict fake in fake.py.

Stripe pages: https://docs.stripe.com/api/payment_intents/create, https://docs.stripe.com/api/errors,
https://docs.stripe.com/declines/codes, https://docs.stripe.com/api/idempotent_requests.
"""

import pytest
import requests
import responses

from payments.acquirers.base import Outcome
from tests.payments.acquirers.stripe.fake import (
    INTENT_ID,
    INTENTS,
    KEY,
    REDIRECT,
    api_error,
    authorization_form,
    authorize,
    card,
    card_error,
    charge,
    conflict,
    idempotency_error,
    intent,
    invalid_request,
    post,
)

AUTHORIZE_KEY = f"{KEY}:authorize"


def expect_authorization(fake, changes=None, **answer):
    if "body" not in answer:
        answer.setdefault("json", intent("requires_capture"))
    fake.add(responses.POST, INTENTS, match=post(AUTHORIZE_KEY, authorization_form(changes)), **answer)


def test_it_sends_the_documented_create_and_confirm_and_reads_the_authorisation(fake, acquirer):
    expect_authorization(fake)

    result = authorize(acquirer)

    assert result.outcome == Outcome.AUTHORIZED and result.ok
    assert result.reference == INTENT_ID
    assert not result.is_3ds and not result.three_ds_frictionless
    assert result.card_country == "FR"  # the issuer's country, from the expanded charge
    assert result.failure_code == ""
    assert result.raw["status"] == "requires_capture" and result.raw["latest_charge"] == charge()["id"]


def test_the_idempotency_key_is_derived_from_ours_and_stable(fake, acquirer):
    expect_authorization(fake)
    expect_authorization(fake)

    authorize(acquirer)
    authorize(acquirer)

    assert [call.request.headers["Idempotency-Key"] for call in fake.calls] == [AUTHORIZE_KEY, AUTHORIZE_KEY]


def test_a_frictionless_3ds_is_reported(fake, acquirer):
    three_ds = {"authentication_flow": "frictionless", "result": "authenticated", "version": "2.2.0"}
    expect_authorization(fake, json=intent("requires_capture", latest_charge=charge(three_d_secure=three_ds)))

    result = authorize(acquirer)

    assert result.outcome == Outcome.AUTHORIZED
    assert result.is_3ds and result.three_ds_frictionless


def test_optional_fields_are_left_out(fake, acquirer):
    expect_authorization(
        fake,
        {
            "payment_method_data[card][cvc]": None,
            "payment_method_data[billing_details][name]": None,
            "statement_descriptor_suffix": None,
            "return_url": None,
        },
    )

    result = authorize(acquirer, card=card(cvc=None, holder=""), statement_descriptor="", return_url="")

    assert result.outcome == Outcome.AUTHORIZED


def test_a_merchant_initiated_charge_is_off_session_and_never_asks_for_a_challenge(fake, acquirer):
    expect_authorization(fake, {"off_session": "true", "return_url": None})

    result = authorize(acquirer, shopper_present=False, force_3ds=True)

    assert result.outcome == Outcome.AUTHORIZED


def test_forced_3ds_requests_a_challenge(fake, acquirer):
    expect_authorization(fake, {"payment_method_options[card][request_three_d_secure]": "challenge"})

    authorize(acquirer, force_3ds=True)


def test_the_statement_descriptor_is_cleaned_of_what_stripe_refuses(fake, acquirer):
    expect_authorization(fake, {"statement_descriptor_suffix": "Cafe du coin 42"})

    authorize(acquirer, statement_descriptor='Café "du" <coin> 42*')


@pytest.mark.parametrize(
    ("code", "decline_code", "outcome", "failure_code", "message"),
    [
        ("card_declined", "generic_decline", Outcome.DECLINED, "card_declined", "The card was declined by the issuer."),
        ("card_declined", "insufficient_funds", Outcome.DECLINED, "card_declined", "insufficient funds"),
        ("card_declined", "lost_card", Outcome.DECLINED, "card_declined", "reported lost or stolen"),
        ("card_declined", "stolen_card", Outcome.DECLINED, "card_declined", "reported lost or stolen"),
        ("card_declined", "do_not_honor", Outcome.DECLINED, "card_declined", "do not honour"),
        ("card_declined", "fraudulent", Outcome.DECLINED, "card_declined", "suspected fraud"),
        ("card_declined", "authentication_required", Outcome.DECLINED, "card_declined", "requires 3-D Secure"),
        ("card_declined", "processing_error", Outcome.ERROR, "processing_error", "processing error"),
        ("card_declined", "try_again_later", Outcome.ERROR, "processing_error", "could not be reached"),
        ("card_declined", "a_code_stripe_adds_later", Outcome.DECLINED, "card_declined", "declined by the issuer"),
        ("card_declined", None, Outcome.DECLINED, "card_declined", "The card was declined by the issuer."),
        ("expired_card", None, Outcome.DECLINED, "card_declined", "it has expired"),
        ("incorrect_cvc", None, Outcome.DECLINED, "card_declined", "the security code is incorrect"),
        ("incorrect_number", None, Outcome.DECLINED, "incorrect_number", "does not exist"),
        ("processing_error", None, Outcome.ERROR, "processing_error", "processing error"),
    ],
)
def test_each_decline_maps_to_a_spec_failure_code(fake, acquirer, code, decline_code, outcome, failure_code, message):
    expect_authorization(fake, status=402, json=card_error(code, decline_code))

    result = authorize(acquirer)

    assert (result.outcome, result.failure_code) == (outcome, failure_code)
    assert message in result.failure_message
    assert f"(Stripe: {decline_code or code})" in result.failure_message  # the provider's reason
    assert result.reference == INTENT_ID  # the intent Stripe left in requires_payment_method
    assert not result.ok
    assert len(fake.calls) == 1


def test_a_declined_intent_answered_200_is_also_a_decline(fake, acquirer):
    failed = intent(
        "requires_payment_method",
        last_payment_error={"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds"},
    )
    expect_authorization(fake, json=failed)

    result = authorize(acquirer)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "card_declined")


def test_an_issuer_refusing_a_merchant_initiated_charge_without_3ds_is_a_decline(fake, acquirer):
    expect_authorization(
        fake, {"off_session": "true", "return_url": None}, status=402, json=card_error("authentication_required", None)
    )

    result = authorize(acquirer, shopper_present=False)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "card_declined")
    assert "3-D Secure" in result.failure_message


def test_a_challenge_sends_the_shopper_to_stripes_redirect(fake, acquirer):
    next_action = {"type": "redirect_to_url", "redirect_to_url": {"url": REDIRECT, "return_url": "https://x.test"}}
    expect_authorization(fake, json=intent("requires_action", next_action=next_action))

    result = authorize(acquirer)

    assert result.outcome == Outcome.REQUIRES_3DS
    assert result.reference == INTENT_ID and result.is_3ds
    assert result.redirect_url == REDIRECT


def test_a_challenge_for_stripe_js_still_names_the_authentication_page(fake, acquirer):
    sdk = {"type": "three_d_secure_redirect", "stripe_js": REDIRECT}
    next_action = {"type": "use_stripe_sdk", "use_stripe_sdk": sdk}
    expect_authorization(fake, {"return_url": None}, json=intent("requires_action", next_action=next_action))

    result = authorize(acquirer, return_url="")

    assert result.outcome == Outcome.REQUIRES_3DS
    assert result.redirect_url == REDIRECT


def test_a_redirect_that_is_not_https_is_not_followed(fake, acquirer):
    next_action = {"type": "redirect_to_url", "redirect_to_url": {"url": "http://evil.test/acs"}}
    expect_authorization(fake, json=intent("requires_action", next_action=next_action))

    result = authorize(acquirer)

    assert result.outcome == Outcome.REQUIRES_3DS and result.redirect_url == ""


def test_a_challenge_without_the_shopper_is_a_decline(fake, acquirer):
    expect_authorization(fake, {"off_session": "true", "return_url": None}, json=intent("requires_action"))

    result = authorize(acquirer, shopper_present=False)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "card_declined")


@pytest.mark.parametrize(
    "answer",
    [
        {"body": requests.ReadTimeout("read timed out")},
        {"body": requests.ConnectionError("('Connection aborted.', RemoteDisconnected())")},
        {"body": requests.ConnectTimeout("connect timed out")},
        {"status": 500, "json": api_error()},
        {"status": 503, "body": "<html>Service Unavailable</html>"},
        {"status": 200, "body": "not json"},
        {"status": 200, "json": ["not", "an", "object"]},
        {"status": 200, "json": {"id": "ch_1", "object": "charge", "status": "succeeded"}},
        {"status": 200, "json": intent("wonderful")},
        {"status": 200, "json": intent("requires_capture", id="not-an-intent-id")},
        {"status": 200, "json": intent("processing")},
        {"status": 409, "json": conflict()},
        {"status": 400, "json": idempotency_error()},
        {"status": 404, "body": "<html>Not Found</html>"},
    ],
    ids=[
        "read-timeout",
        "dropped",
        "connect-timeout",
        "500",
        "503-html",
        "not-json",
        "not-an-object",
        "not-an-intent",
        "unknown-status",
        "bad-id",
        "processing",
        "409-in-progress",
        "idempotency-error",
        "404-html",
    ],
)
def test_an_answer_we_cannot_trust_is_unknown_and_never_resent(fake, acquirer, answer):
    expect_authorization(fake, **answer)

    result = authorize(acquirer)

    assert result.outcome == Outcome.UNKNOWN
    assert result.failure_code == ""  # not a failure: pending until the inquiry
    assert not result.ok
    assert len(fake.calls) == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, invalid_request("parameter_invalid_integer", "Invalid integer", "amount")),
        (400, invalid_request("amount_too_small", "Amount must be at least €0.50 eur", "amount")),
        (401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_****"}}),
        (403, {"error": {"type": "invalid_request_error", "code": "secret_key_required", "message": "No"}}),
        (429, {"error": {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests"}}),
    ],
    ids=["400-invalid", "400-too-small", "401", "403", "429"],
)
def test_a_refused_request_is_an_error_with_nothing_authorised(fake, acquirer, status, body):
    expect_authorization(fake, status=status, json=body)

    result = authorize(acquirer)

    assert (result.outcome, result.failure_code) == (Outcome.ERROR, "processing_error")
    assert f"HTTP {status}" in result.failure_message
    assert len(fake.calls) == 1


@pytest.mark.parametrize(
    "arguments",
    [
        {"idempotency_key": ""},
        {"idempotency_key": "has space"},
        {"idempotency_key": "quote'in"},
        {"idempotency_key": "x" * 201},
        {"amount": 0},
        {"amount": 10.5},
        {"amount": True},
        {"currency": "eur"},
        {"card": card(number="4242x")},
        {"card": card(cvc="12")},
        {"return_url": "javascript:alert(1)"},
    ],
)
def test_bad_arguments_are_refused_before_anything_is_sent(fake, acquirer, arguments):
    with pytest.raises(ValueError):
        authorize(acquirer, **arguments)

    assert len(fake.calls) == 0
