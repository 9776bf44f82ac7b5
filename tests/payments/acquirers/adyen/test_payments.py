"""The Adyen connector's authorisation, 3-D Secure and inquiry, against a strict fake of Adyen's
Checkout API v71 (tests/payments/acquirers/adyen/fakes.py, which cites the reference pages):

* https://docs.adyen.com/api-explorer/Checkout/71/post/payments
* https://docs.adyen.com/api-explorer/Checkout/71/post/payments/details
* https://docs.adyen.com/development-resources/api-idempotency
* https://docs.adyen.com/development-resources/refusal-reasons/
* https://docs.adyen.com/development-resources/error-codes
"""

import json
import logging

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError

from payments.acquirers.adyen_acquirer import AdyenAcquirer, provider_idempotency_key, reference_with_details
from payments.acquirers.base import AcquirerUnavailable, CardData, Outcome
from tests.payments.acquirers.adyen.conftest import config
from tests.payments.acquirers.adyen.fakes import (
    IN_PROGRESS,
    INTERNAL,
    MERCHANT_ACCOUNT,
    UNAUTHORIZED,
    AdyenFake,
    read_timeout,
)

NUMBER = "4970101234567893"  # Luhn-valid: the log masking filter would catch it too
CVC = "7391"
KEY = "idem_pay2m7QbVx0LrT5cKzA9eWq4N_1"
PSP = "993617895204576J"
REDIRECT = "https://checkoutshopper-test.adyen.com/checkoutshopper/threeDS/redirect?MD=M2RzZWNyZXQ%3D"
RETURN_URL = "https://pay.example.net/p/Qm9uam91ckJvbmpvdXI/return"


def card(number=NUMBER, cvc=CVC, holder="Jeanne Martin"):
    return CardData(number=number, exp_month=3, exp_year=2030, cvc=cvc, holder=holder)


def authorize(adyen, **overrides):
    arguments = {"card": card(), "amount": 3300, "currency": "EUR", "idempotency_key": KEY, "return_url": RETURN_URL}
    arguments.update(overrides)
    return adyen.authorize(**arguments)


def authorised(**extra):
    answer = {
        "additionalData": {"cardIssuingCountry": "BE"},
        "amount": {"currency": "EUR", "value": 3300},
        "merchantReference": KEY,
        "pspReference": PSP,
        "resultCode": "Authorised",
    }
    answer.update(extra)
    return answer


def refused(code, reason):
    return {
        "amount": {"currency": "EUR", "value": 3300},
        "merchantReference": KEY,
        "pspReference": PSP,
        "refusalReason": reason,
        "refusalReasonCode": code,
        "resultCode": "Refused",
    }


def redirect_shopper():
    return {
        "resultCode": "RedirectShopper",
        "action": {"paymentMethodType": "scheme", "url": REDIRECT, "method": "GET", "type": "redirect"},
    }


PAYMENT_BODY = {
    "merchantAccount": MERCHANT_ACCOUNT,
    "reference": KEY,
    "amount": {"currency": "EUR", "value": 3300},
    "paymentMethod": {
        "type": "scheme",
        "number": NUMBER,
        "expiryMonth": "03",
        "expiryYear": "2030",
        "cvc": CVC,
        "holderName": "Jeanne Martin",
    },
    "additionalData": {"manualCapture": "true"},
    "shopperInteraction": "Ecommerce",
    "channel": "Web",
    "returnUrl": RETURN_URL,
    "shopperStatement": "PAYPLATFORM SHOP",
}


# --- authorisation -----------------------------------------------------------------------------


def test_authorize_sends_the_documented_request_and_reads_an_authorisation(fake, adyen):
    fake.expect("/payments", authorised(), body=PAYMENT_BODY, idempotency_key=f"{KEY}.payments")

    result = authorize(adyen, statement_descriptor="PAYPLATFORM SHOP")

    assert result.outcome == Outcome.AUTHORIZED
    assert result.reference == PSP
    assert result.card_country == "BE"
    assert not result.is_3ds and not result.three_ds_frictionless
    assert result.raw["resultCode"] == "Authorised"
    assert fake.mock.calls[0].request.url == "https://checkout-test.adyen.com/v71/payments"


def test_optional_card_fields_are_left_out_and_force_3ds_asks_for_authentication(fake, adyen):
    body = {key: value for key, value in PAYMENT_BODY.items() if key not in ("shopperStatement", "returnUrl")}
    body["paymentMethod"] = {"type": "scheme", "number": NUMBER, "expiryMonth": "03", "expiryYear": "2030"}
    body["authenticationData"] = {"attemptAuthentication": "always"}
    fake.expect("/payments", authorised(), body=body)

    result = authorize(adyen, card=card(cvc=None, holder=""), force_3ds=True, return_url="")

    assert result.outcome == Outcome.AUTHORIZED


def test_a_merchant_initiated_charge_is_contauth_without_authentication(fake, adyen):
    body = {
        key: value for key, value in PAYMENT_BODY.items() if key not in ("shopperStatement", "channel", "returnUrl")
    }
    body["shopperInteraction"] = "ContAuth"
    body["recurringProcessingModel"] = "Subscription"
    body["authenticationData"] = {"attemptAuthentication": "never"}
    fake.expect("/payments", authorised(), body=body)

    result = authorize(adyen, shopper_present=False, force_3ds=True, return_url="")

    assert result.outcome == Outcome.AUTHORIZED


@pytest.mark.parametrize(
    ("code", "reason", "outcome", "failure_code", "words"),
    [
        ("2", "Refused", Outcome.DECLINED, "card_declined", "declined by the issuer"),
        ("5", "Blocked Card", Outcome.DECLINED, "card_declined", "blocked"),
        ("6", "Expired Card", Outcome.DECLINED, "card_declined", "expired"),
        ("8", "Invalid Card Number", Outcome.DECLINED, "incorrect_number", "does not exist"),
        ("11", "3D Not Authenticated", Outcome.DECLINED, "3ds_declined", "3-D Secure"),
        ("12", "Not enough balance", Outcome.DECLINED, "card_declined", "insufficient funds"),
        ("20", "FRAUD", Outcome.DECLINED, "card_declined", "fraud"),
        ("24", "CVC Declined", Outcome.DECLINED, "card_declined", "security code"),
        ("38", "Authentication required", Outcome.DECLINED, "card_declined", "3-D Secure"),
        ("4", "Acquirer Error", Outcome.ERROR, "processing_error", "processing error"),
        ("9", "Issuer Unavailable", Outcome.ERROR, "processing_error", "processing error"),
        ("99", "Something new", Outcome.DECLINED, "card_declined", "declined by the issuer"),
    ],
)
def test_each_refusal_reason_maps_to_a_spec_failure_code(fake, adyen, code, reason, outcome, failure_code, words):
    fake.expect("/payments", refused(code, reason))

    result = authorize(adyen)

    assert (result.outcome, result.failure_code) == (outcome, failure_code)
    assert words in result.failure_message
    assert f"(Adyen: {reason})" in result.failure_message  # the provider's own reason, too
    assert result.reference == PSP


def test_an_error_result_is_a_processing_error_and_cancelled_a_decline(fake, adyen):
    fake.expect(
        "/payments",
        {"merchantReference": KEY, "pspReference": PSP, "resultCode": "Error", "refusalReason": "Acquirer Error"},
    )
    fake.expect("/payments", {"merchantReference": KEY, "pspReference": PSP, "resultCode": "Cancelled"})

    error, cancelled = authorize(adyen), authorize(adyen)

    assert (error.outcome, error.failure_code) == (Outcome.ERROR, "processing_error")
    assert (cancelled.outcome, cancelled.failure_code) == (Outcome.DECLINED, "card_declined")


def test_a_frictionless_3ds_authorisation_is_reported(fake, adyen):
    fake.expect("/payments", authorised(additionalData={"threeDAuthenticated": "true", "liabilityShift": "true"}))

    result = authorize(adyen)

    assert result.outcome == Outcome.AUTHORIZED
    assert result.is_3ds and result.three_ds_frictionless


def test_a_redirect_action_requires_3ds_with_its_url(fake, adyen):
    fake.expect("/payments", redirect_shopper())

    result = authorize(adyen)

    assert result.outcome == Outcome.REQUIRES_3DS
    assert result.redirect_url == REDIRECT
    assert result.reference == ""  # Adyen gives the pspReference after /payments/details
    assert result.is_3ds


def test_a_native_3ds2_action_requires_3ds_without_a_url(fake, adyen):
    action = {"type": "threeDS2", "subtype": "challenge", "token": "eyJ0...", "paymentMethodType": "scheme"}
    fake.expect("/payments", {"resultCode": "ChallengeShopper", "action": action, "pspReference": PSP})

    result = authorize(adyen)

    assert (result.outcome, result.redirect_url, result.reference) == (Outcome.REQUIRES_3DS, "", PSP)


def test_a_challenge_asked_without_the_shopper_is_a_decline(fake, adyen):
    fake.expect("/payments", redirect_shopper())

    result = authorize(adyen, shopper_present=False)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "card_declined")
    assert "3-D Secure" in result.failure_message


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (read_timeout(), "read timeout"),
        (requests.ConnectionError("Connection aborted: RemoteDisconnected"), "connection lost"),
    ],
)
def test_no_answer_after_sending_is_unknown_and_never_resent(fake, adyen, error, words):
    fake.expect("/payments", error=error)

    result = authorize(adyen)

    assert result.outcome == Outcome.UNKNOWN
    assert words in result.failure_message
    assert len(fake.mock.calls) == 1


def test_adyen_never_reached_means_nothing_was_authorised(fake, adyen):
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    fake.expect("/payments", error=requests.ConnectionError(MaxRetryError(None, "/payments", reason=reason)))

    result = authorize(adyen)

    assert (result.outcome, result.failure_code) == (Outcome.ERROR, "processing_error")
    assert len(fake.mock.calls) == 1


@pytest.mark.parametrize(
    ("status", "answer", "raw"),
    [
        (500, INTERNAL, None),
        (503, None, "<html>Service Unavailable</html>"),
        (200, None, "not json"),
        (200, None, "[]"),
        (200, {"merchantReference": KEY, "pspReference": PSP}, None),  # no resultCode
        (200, {"merchantReference": KEY, "resultCode": "Authorised"}, None),  # no pspReference
        (200, {"merchantReference": "someone_else", "pspReference": PSP, "resultCode": "Authorised"}, None),
        (200, {"merchantReference": KEY, "pspReference": PSP, "resultCode": "PresentToShopper"}, None),
        (200, {"resultCode": "RedirectShopper", "action": {"type": "redirect", "url": "javascript:alert(1)"}}, None),
        (302, None, ""),
        (422, [], None),
    ],
)
def test_an_answer_we_cannot_trust_is_unknown_never_authorised(fake, adyen, status, answer, raw):
    fake.expect("/payments", answer, status=status, raw=raw)

    result = authorize(adyen)

    assert result.outcome == Outcome.UNKNOWN
    assert not result.reference


def test_a_request_still_in_progress_at_adyen_is_unknown(fake, adyen):
    fake.expect("/payments", IN_PROGRESS, status=422)

    assert authorize(adyen).outcome == Outcome.UNKNOWN


@pytest.mark.parametrize(
    ("code", "message", "failure_code"),
    [
        ("101", "Invalid card number", "incorrect_number"),
        ("103", "CVC is not the right length", "card_declined"),
        ("129", "Expiry Date Invalid", "card_declined"),
    ],
)
def test_a_validation_error_about_the_card_is_a_decline(fake, adyen, code, message, failure_code):
    error = {"status": 422, "errorCode": code, "message": message, "errorType": "validation", "pspReference": PSP}
    fake.expect("/payments", error, status=422)

    result = authorize(adyen)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, failure_code)


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (401, UNAUTHORIZED),
        (403, {"status": 403, "errorCode": "010", "message": "Not allowed", "errorType": "security"}),
        (422, {"status": 422, "errorCode": "14_030", "message": "Return URL is missing.", "errorType": "validation"}),
    ],
)
def test_a_refused_request_is_an_error_with_nothing_authorised(fake, adyen, status, answer):
    fake.expect("/payments", answer, status=status)

    result = authorize(adyen)

    assert (result.outcome, result.failure_code) == (Outcome.ERROR, "processing_error")
    assert f"HTTP {status}" in result.failure_message
    assert len(fake.mock.calls) == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": 0},
        {"amount": "3300"},
        {"currency": "eur"},
        {"idempotency_key": ""},
        {"idempotency_key": "has space"},
        {"idempotency_key": "k" * 81},
        {"card": CardData(number="4970 1012 3456 7893", exp_month=3, exp_year=2030)},
        {"return_url": "http://shop.example.org/return"},
    ],
)
def test_bad_arguments_are_refused_before_anything_is_sent(mock, adyen, overrides):
    with pytest.raises(ValueError) as raised:
        authorize(adyen, **overrides)

    assert NUMBER not in str(raised.value)
    assert len(mock.calls) == 0


# --- 3-D Secure --------------------------------------------------------------------------------


def details_reference():
    return reference_with_details("", {"redirectResult": "X6XtfGC3!Y...", "ignored": "x"})


def test_the_shopper_back_with_details_completes_the_payment(fake, adyen):
    fake.expect(
        "/payments/details",
        authorised(additionalData={"threeDAuthenticated": "true"}),
        body={"details": {"redirectResult": "X6XtfGC3!Y..."}},
        idempotency_key=f"{KEY}-3ds.details",
    )

    result = adyen.complete_3ds(reference=details_reference(), authenticated=True, idempotency_key=f"{KEY}-3ds")

    assert result.outcome == Outcome.AUTHORIZED
    assert result.reference == PSP
    assert result.is_3ds and not result.three_ds_frictionless


def test_a_failed_challenge_is_3ds_declined(fake, adyen):
    fake.expect("/payments/details", refused("11", "3D Not Authenticated"))

    result = adyen.complete_3ds(reference=details_reference(), authenticated=True, idempotency_key=f"{KEY}-3ds")

    assert (result.outcome, result.failure_code, result.reference) == (Outcome.DECLINED, "3ds_declined", PSP)


def test_the_issuer_can_still_decline_after_a_successful_challenge(fake, adyen):
    fake.expect("/payments/details", refused("12", "Not enough balance"))

    result = adyen.complete_3ds(reference=details_reference(), authenticated=True, idempotency_key=f"{KEY}-3ds")

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "card_declined")
    assert result.is_3ds


def test_details_adyen_refuses_are_a_failed_challenge(fake, adyen):
    error = {"status": 422, "errorCode": "14_002", "message": "Invalid payload provided", "errorType": "validation"}
    fake.expect("/payments/details", error, status=422)

    result = adyen.complete_3ds(reference=f"{PSP}?redirectResult=old", authenticated=True, idempotency_key=f"{KEY}-3ds")

    assert (result.outcome, result.failure_code, result.reference) == (Outcome.DECLINED, "3ds_declined", PSP)


def test_an_abandoned_challenge_is_declined_without_asking_for_details_and_cancelled(fake, adyen):
    fake.expect(
        f"/payments/{PSP}/cancels",
        {
            "merchantAccount": MERCHANT_ACCOUNT,
            "paymentPspReference": PSP,
            "pspReference": "8826000000000009",
            "status": "received",
        },
        status=201,
        body={"merchantAccount": MERCHANT_ACCOUNT, "reference": f"{KEY}-3ds"},
    )

    result = adyen.complete_3ds(reference=PSP, authenticated=False, idempotency_key=f"{KEY}-3ds")

    assert (result.outcome, result.failure_code, result.reference) == (Outcome.DECLINED, "3ds_declined", PSP)
    assert [call.request.url for call in fake.mock.calls] == [
        f"https://checkout-test.adyen.com/v71/payments/{PSP}/cancels"
    ]


def test_an_abandoned_challenge_without_a_psp_reference_asks_nothing(mock, adyen):
    result = adyen.complete_3ds(reference="", authenticated=False, idempotency_key=f"{KEY}-3ds")

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "3ds_declined")
    assert len(mock.calls) == 0


def test_an_abandoned_challenge_whose_cancel_fails_is_still_declined(fake, adyen):
    fake.expect(f"/payments/{PSP}/cancels", error=read_timeout())

    result = adyen.complete_3ds(reference=PSP, authenticated=False, idempotency_key=f"{KEY}-3ds")

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "3ds_declined")


@pytest.mark.parametrize(
    ("status", "answer", "error"),
    [
        (200, None, read_timeout()),
        (500, INTERNAL, None),
        (401, UNAUTHORIZED, None),
        (422, IN_PROGRESS, None),
        (200, {"merchantReference": KEY, "resultCode": "Pending"}, None),
        (200, {"unexpected": True}, None),
    ],
)
def test_a_completion_without_a_usable_answer_is_unavailable(fake, adyen, status, answer, error):
    fake.expect("/payments/details", answer, status=status, error=error)

    with pytest.raises(AcquirerUnavailable):
        adyen.complete_3ds(reference=details_reference(), authenticated=True, idempotency_key=f"{KEY}-3ds")


def test_details_travel_in_the_reference_and_unknown_fields_are_dropped():
    reference = reference_with_details(PSP, {"redirectResult": "a b&c", "evil": "x", "MD": ""})

    assert reference == f"{PSP}?redirectResult=a+b%26c"
    assert reference_with_details(PSP, {}) == PSP


def test_a_reference_that_is_not_a_psp_reference_is_refused(mock, adyen):
    with pytest.raises(ValueError):
        adyen.complete_3ds(reference="../../refunds?redirectResult=x", authenticated=True, idempotency_key=KEY)
    assert len(mock.calls) == 0


# --- inquiry -----------------------------------------------------------------------------------

INQUIRY_BODY = {
    "merchantAccount": MERCHANT_ACCOUNT,
    "reference": KEY,
    "amount": {"currency": "EUR", "value": 0},
    "paymentMethod": {"type": "scheme"},
}


def test_an_unknown_authorisation_is_resolved_by_replaying_its_key_without_the_card(fake, adyen):
    fake.expect("/payments", error=read_timeout(), idempotency_key=f"{KEY}.payments")
    fake.expect("/payments", authorised(), body=INQUIRY_BODY, idempotency_key=f"{KEY}.payments")

    first = authorize(adyen)
    resolved = adyen.inquire(idempotency_key=KEY)

    assert first.outcome == Outcome.UNKNOWN
    assert (resolved.outcome, resolved.reference) == (Outcome.AUTHORIZED, PSP)
    assert NUMBER not in fake.mock.calls[1].request.body.decode()
    assert CVC not in fake.mock.calls[1].request.body.decode()


def test_the_inquiry_returns_a_stored_decline(fake, adyen):
    fake.expect("/payments", refused("12", "Not enough balance"), body=INQUIRY_BODY)

    result = adyen.inquire(idempotency_key=KEY)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "card_declined")


def test_a_key_adyen_never_saw_is_settled_as_not_authorised(fake, adyen):
    error = {
        "status": 422,
        "errorCode": "000",
        "message": "Required field 'number' is not provided.",
        "errorType": "validation",
    }
    fake.expect("/payments", error, status=422, body=INQUIRY_BODY)

    result = adyen.inquire(idempotency_key=KEY)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "processing_error")
    assert "no record" in result.failure_message


@pytest.mark.parametrize(
    ("status", "answer", "error"),
    [
        (200, None, read_timeout()),
        (500, INTERNAL, None),
        (401, UNAUTHORIZED, None),
        (422, IN_PROGRESS, None),
        (404, {"status": 404, "errorCode": "000", "message": "Not found", "errorType": "internal"}, None),
        (200, {"merchantReference": KEY, "pspReference": PSP, "resultCode": "Received"}, None),
        (200, {"merchantReference": "other", "pspReference": PSP, "resultCode": "Authorised"}, None),
    ],
)
def test_an_inquiry_that_cannot_tell_raises_unavailable(fake, adyen, status, answer, error):
    fake.expect("/payments", answer, status=status, error=error)

    with pytest.raises(AcquirerUnavailable):
        adyen.inquire(idempotency_key=KEY)


def test_an_open_challenge_whose_completion_was_lost_is_resolved_by_its_own_key(fake, adyen):
    fake.expect("/payments", redirect_shopper(), idempotency_key=f"{KEY}.payments")
    fake.expect("/payments/details", authorised(), idempotency_key=f"{KEY}-3ds.details")

    result = adyen.inquire(idempotency_key=KEY)

    assert (result.outcome, result.reference) == (Outcome.AUTHORIZED, PSP)
    assert result.is_3ds


def test_an_open_challenge_never_completed_stays_open(fake, adyen):
    fake.expect("/payments", redirect_shopper())
    error = {"status": 422, "errorCode": "14_002", "message": "Invalid payload provided", "errorType": "validation"}
    fake.expect("/payments/details", error, status=422)

    result = adyen.inquire(idempotency_key=KEY)

    assert (result.outcome, result.redirect_url) == (Outcome.REQUIRES_3DS, REDIRECT)


# --- configuration -----------------------------------------------------------------------------


def test_provider_keys_are_deterministic_short_and_per_operation():
    long_key = "k" * 80

    assert provider_idempotency_key("payments", KEY) == provider_idempotency_key("payments", KEY)
    assert provider_idempotency_key("payments", KEY) != provider_idempotency_key("captures", KEY)
    assert len(provider_idempotency_key("payments", long_key)) <= 64
    assert provider_idempotency_key("payments", long_key) == provider_idempotency_key("payments", long_key)
    assert provider_idempotency_key("payments", long_key) != provider_idempotency_key("payments", long_key[:-1] + "j")


@pytest.mark.parametrize(
    "base_url",
    [
        "http://adyen.example.net",
        "ftp://127.0.0.1",
        "https://user:pw@proxy.example.net",
        "https://proxy.example.net/?a=b",
        "adyen",
    ],
)
def test_only_https_or_a_loopback_http_base_url_is_accepted(base_url):
    with pytest.raises(ValueError):
        AdyenAcquirer(config(base_url=base_url))


@pytest.mark.parametrize(
    "overrides", [{"api_key": ""}, {"merchant_account": ""}, {"timeout": 0}, {"webhook_secret": "not-hex"}]
)
def test_an_unusable_configuration_is_refused(overrides):
    with pytest.raises(ValueError):
        AdyenAcquirer(config(**overrides))


def test_the_live_environment_needs_the_live_url_prefix():
    with pytest.raises(ValueError):
        AdyenAcquirer(config(test_environment=False))


def test_the_live_environment_uses_the_merchants_live_url(mock):
    adyen = AdyenAcquirer(config(test_environment=False), live_url_prefix="1797a841fbb37ca7-AdyenDemo")
    live = AdyenFake(mock, base="https://1797a841fbb37ca7-AdyenDemo-checkout-live.adyenpayments.com/checkout/v71")
    live.expect("/payments", authorised())

    assert authorize(adyen).outcome == Outcome.AUTHORIZED


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8089/adyen", "https://adyen-live-proxy.example.net/checkout/"])
def test_a_configured_base_url_is_used_as_given(mock, base_url):
    adyen = AdyenAcquirer(config(base_url=base_url, test_environment=False))
    stand_in = AdyenFake(mock, base=base_url.rstrip("/") + "/v71")
    stand_in.expect("/payments", authorised())

    assert authorize(adyen).outcome == Outcome.AUTHORIZED


def test_each_merchant_has_its_own_client(mock):
    first = AdyenAcquirer(config(api_key="key_of_merchant_a"))
    second = AdyenAcquirer(config(api_key="key_of_merchant_b"))
    AdyenFake(mock, api_key="key_of_merchant_a").expect("/payments", authorised())
    AdyenFake(mock, api_key="key_of_merchant_b").expect("/payments", authorised())

    assert authorize(first).outcome == Outcome.AUTHORIZED
    assert authorize(second).outcome == Outcome.AUTHORIZED
    assert [call.request.headers["X-API-Key"] for call in mock.calls] == ["key_of_merchant_a", "key_of_merchant_b"]


def test_timeouts_come_from_the_config_and_redirects_are_not_followed(mock, monkeypatch):
    seen = {}

    def spy(self, method, url, **kwargs):
        seen.update(kwargs)
        raise read_timeout()

    adyen = AdyenAcquirer(config(timeout=8.0))
    monkeypatch.setattr(requests.Session, "request", spy)

    assert authorize(adyen).outcome == Outcome.UNKNOWN
    assert seen["timeout"] == (3.0, 8.0)
    assert seen["allow_redirects"] is False


def test_check_credentials_reads_the_management_api(mock, adyen):
    mock.add(
        responses.GET,
        "https://management-test.adyen.com/v3/me",
        json={"id": "S2-6262", "active": True, "associatedMerchantAccounts": [MERCHANT_ACCOUNT], "roles": []},
        match=[responses.matchers.header_matcher({"X-API-Key": config().api_key})],
    )
    mock.add(responses.GET, "https://management-test.adyen.com/v3/me", json=UNAUTHORIZED, status=401)

    assert adyen.check_credentials() == (True, "")
    assert adyen.check_credentials()[0] is False


# --- card data ---------------------------------------------------------------------------------


def assert_no_card_data(text: str) -> None:
    assert NUMBER not in text
    assert CVC not in text


def test_card_number_and_cvc_never_reach_logs_results_or_errors(fake, adyen, caplog):
    caplog.set_level(logging.DEBUG)  # every logger: requests, urllib3 and the Adyen library included
    fake.expect("/payments", authorised())
    fake.expect("/payments", refused("24", f"CVC Declined {CVC}"))
    fake.expect("/payments", error=read_timeout())
    fake.expect(
        "/payments",
        {"status": 422, "errorCode": "101", "message": "Invalid card number", "errorType": "validation"},
        status=422,
    )
    fake.expect("/payments", INTERNAL, status=500)
    fake.expect("/payments", redirect_shopper())

    results = [authorize(adyen) for _ in range(6)]

    logged = caplog.text + "".join(
        f"{record.getMessage()} {record.args!r} {record.__dict__!r}" for record in caplog.records
    )
    assert_no_card_data(logged)
    for result in results:
        assert_no_card_data(repr(result) + json.dumps(result.raw))
    assert_no_card_data(repr(adyen) + repr(card()))
    assert NUMBER in fake.mock.calls[0].request.body.decode()  # the card did go to Adyen
    assert_no_card_data(repr(fake.mock.calls[0].request.body))


def test_an_inquiry_error_carries_no_card_data_nor_a_library_exception(fake, adyen):
    fake.expect("/payments", error=read_timeout())
    fake.expect("/payments", error=read_timeout())

    authorize(adyen)
    with pytest.raises(AcquirerUnavailable) as raised:
        adyen.inquire(idempotency_key=KEY)

    assert raised.value.__cause__ is None and raised.value.__context__ is None
    assert_no_card_data(str(raised.value))
