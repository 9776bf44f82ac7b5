"""The live acquirer client (payments.acquirers.http), against an acquirer faked with `responses`."""

import json
import logging
import re

import pytest
import requests
import responses
from django.core.exceptions import ImproperlyConfigured
from responses import matchers
from urllib3.exceptions import MaxRetryError, NewConnectionError

from payments.acquirers import get_acquirer
from payments.acquirers.base import AcquirerUnavailable, CardData, Outcome
from payments.acquirers.http import HttpAcquirer

BASE = "https://acquirer.test"
AUTHORIZATIONS = f"{BASE}/v1/authorizations"
NUMBER = "4970101234567893"  # Luhn-valid, so the log masking filter would also catch it
CVC = "7391"
KEY = "idem_pay_2m7QbVx0LrT5_attempt_1"


def card(number=NUMBER, cvc=CVC):
    return CardData(number=number, exp_month=12, exp_year=2030, cvc=cvc, holder="Jeanne Martin")


def authorization(status="authorized", **extra):
    body = {
        "id": "auth_123",
        "object": "authorization",
        "status": status,
        "amount": 3300,
        "currency": "EUR",
        "decline_code": None,
        "message": None,
        "three_ds": {"performed": False, "frictionless": False},
    }
    body.update(extra)
    return body


def connection_refused():
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.ConnectionError(MaxRetryError(None, AUTHORIZATIONS, reason=reason))


@pytest.fixture
def fake():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def acquirer():
    return HttpAcquirer(base_url=BASE, api_key="sk_live_acquirer", timeout_seconds=5, retry_backoff_seconds=0)


def authorize(acquirer, **overrides):
    arguments = {"card": card(), "amount": 3300, "currency": "EUR", "idempotency_key": KEY}
    arguments.update(overrides)
    return acquirer.authorize(**arguments)


def keys_sent(fake):
    return [call.request.headers["Idempotency-Key"] for call in fake.calls]


# --- authorisation -------------------------------------------------------------------------------


def test_authorize_sends_the_documented_request_and_reads_the_authorisation(fake, acquirer):
    fake.post(AUTHORIZATIONS, json=authorization(), status=201)

    result = authorize(acquirer, statement_descriptor="SHOP 42", force_3ds=False)

    assert result.outcome == Outcome.AUTHORIZED
    assert result.ok and result.reference == "auth_123" and not result.is_3ds
    assert result.failure_code == ""
    request = fake.calls[0].request
    assert request.headers["Authorization"] == "Bearer sk_live_acquirer"
    assert request.headers["Idempotency-Key"] == KEY
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "amount": 3300,
        "currency": "EUR",
        "card": {"number": NUMBER, "exp_month": 12, "exp_year": 2030, "cvc": CVC, "holder": "Jeanne Martin"},
        "three_ds": {"required": False, "shopper_present": True},
        "statement_descriptor": "SHOP 42",
    }


def test_authorize_without_cvc_or_descriptor_leaves_them_out(fake, acquirer):
    fake.post(AUTHORIZATIONS, json=authorization())

    authorize(acquirer, card=card(cvc=None), shopper_present=False, force_3ds=True)

    body = json.loads(fake.calls[0].request.body)
    assert "cvc" not in body["card"] and "statement_descriptor" not in body
    assert body["three_ds"] == {"required": True, "shopper_present": False}


@pytest.mark.parametrize(
    ("decline_code", "outcome", "failure_code", "message"),
    [
        ("generic_decline", Outcome.DECLINED, "card_declined", "The card was declined by the issuer."),
        ("do_not_honor", Outcome.DECLINED, "card_declined", "The card was declined by the issuer (do not honour)."),
        ("insufficient_funds", Outcome.DECLINED, "card_declined", "The card was declined: insufficient funds."),
        ("lost_card", Outcome.DECLINED, "card_declined", "The card was declined: it was reported lost or stolen."),
        ("stolen_card", Outcome.DECLINED, "card_declined", "The card was declined: it was reported lost or stolen."),
        ("expired_card", Outcome.DECLINED, "card_declined", "The card was declined: it has expired."),
        ("incorrect_cvc", Outcome.DECLINED, "card_declined", "The card was declined: the security code is incorrect."),
        ("invalid_number", Outcome.DECLINED, "incorrect_number", "The card number does not exist."),
        ("authentication_failed", Outcome.DECLINED, "3ds_declined", "3-D Secure authentication failed."),
        ("brand_not_supported", Outcome.DECLINED, "method_unsupported", "This card brand is not accepted."),
        ("processing_error", Outcome.ERROR, "processing_error", "The acquirer reported a processing error."),
        ("some_code_we_never_heard_of", Outcome.DECLINED, "card_declined", "The card was declined by the issuer."),
        (None, Outcome.DECLINED, "card_declined", "The card was declined by the issuer."),
    ],
)
def test_each_decline_code_maps_to_a_spec_failure_code(fake, acquirer, decline_code, outcome, failure_code, message):
    fake.post(AUTHORIZATIONS, json=authorization("declined", decline_code=decline_code, message="Issuer says no"))

    result = authorize(acquirer)

    assert (result.outcome, result.failure_code, result.failure_message) == (outcome, failure_code, message)
    assert not result.ok
    assert len(fake.calls) == 1


def test_a_processing_error_status_is_an_error_with_nothing_authorised(fake, acquirer):
    fake.post(AUTHORIZATIONS, json=authorization("error", message="Scheme unavailable"))

    result = authorize(acquirer)

    assert result.outcome == Outcome.ERROR
    assert result.failure_code == "processing_error"
    assert len(fake.calls) == 1


def test_frictionless_3ds_is_reported(fake, acquirer):
    fake.post(AUTHORIZATIONS, json=authorization(three_ds={"performed": True, "frictionless": True}))

    result = authorize(acquirer)

    assert result.outcome == Outcome.AUTHORIZED
    assert result.is_3ds and result.three_ds_frictionless


def test_3ds_required_then_completed(fake, acquirer):
    fake.post(
        AUTHORIZATIONS,
        json=authorization("requires_3ds", three_ds={"challenge_url": "https://acs.test/c/1", "performed": False}),
    )
    fake.post(
        f"{AUTHORIZATIONS}/auth_123/3ds",
        json=authorization(three_ds={"performed": True}),
        match=[matchers.json_params_matcher({"authenticated": True})],
    )

    challenge = authorize(acquirer, force_3ds=True)
    completed = acquirer.complete_3ds(reference=challenge.reference, authenticated=True, idempotency_key=KEY + "_3ds")

    assert challenge.outcome == Outcome.REQUIRES_3DS
    assert challenge.is_3ds and challenge.reference == "auth_123"
    assert challenge.raw["three_ds"]["challenge_url"] == "https://acs.test/c/1"
    assert completed.outcome == Outcome.AUTHORIZED and completed.is_3ds and completed.reference == "auth_123"
    assert keys_sent(fake) == [KEY, KEY + "_3ds"]


def test_a_failed_challenge_is_3ds_declined(fake, acquirer):
    fake.post(f"{AUTHORIZATIONS}/auth_123/3ds", json=authorization("declined", decline_code="generic_decline"))

    result = acquirer.complete_3ds(reference="auth_123", authenticated=False, idempotency_key="k3ds")

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "3ds_declined")
    assert result.is_3ds
    assert json.loads(fake.calls[0].request.body) == {"authenticated": False}


def test_an_issuer_can_still_decline_after_a_successful_challenge(fake, acquirer):
    fake.post(f"{AUTHORIZATIONS}/auth_123/3ds", json=authorization("declined", decline_code="insufficient_funds"))

    result = acquirer.complete_3ds(reference="auth_123", authenticated=True, idempotency_key="k3ds")

    assert result.failure_code == "card_declined"
    assert result.failure_message == "The card was declined: insufficient funds."


def test_a_challenge_without_the_shopper_is_a_decline(fake, acquirer):
    fake.post(AUTHORIZATIONS, json=authorization("requires_3ds"))

    result = authorize(acquirer, shopper_present=False)

    assert result.outcome == Outcome.DECLINED
    assert result.failure_code == "card_declined"


def test_complete_3ds_read_timeout_is_unknown_and_not_resent(fake, acquirer):
    fake.post(f"{AUTHORIZATIONS}/auth_123/3ds", body=requests.ReadTimeout())

    result = acquirer.complete_3ds(reference="auth_123", authenticated=True, idempotency_key="k3ds")

    assert result.outcome == Outcome.UNKNOWN
    assert len(fake.calls) == 1


def test_references_are_escaped_in_paths(fake, acquirer):
    fake.post(f"{AUTHORIZATIONS}/a%2F..%2Fb/capture", json={"id": "cap_1", "status": "succeeded"})

    result = acquirer.capture(reference="a/../b", amount=100, idempotency_key="kc")

    assert result.outcome == Outcome.SUCCEEDED


# --- unknown outcomes and retries of the authorisation -------------------------------------------


def test_read_timeout_is_unknown_and_the_authorisation_is_not_resent(fake, acquirer):
    fake.post(AUTHORIZATIONS, body=requests.ReadTimeout("read timed out"))
    fake.post(AUTHORIZATIONS, json=authorization())  # what a (forbidden) retry would get

    result = authorize(acquirer)

    assert result.outcome == Outcome.UNKNOWN
    assert result.failure_code == ""  # not a failure: pending until inquiry
    assert len(fake.calls) == 1
    assert keys_sent(fake) == [KEY]


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 500, "json": {"error": {"code": "internal"}}},
        {"status": 503, "body": "<html>Service Unavailable</html>"},
        {"status": 200, "body": "not json"},
        {"status": 200, "json": ["not", "an", "object"]},
        {"status": 200, "json": {"status": "authorized"}},  # no id
        {"status": 200, "json": {"id": "auth_1", "status": "wonderful"}},
        {"status": 200, "json": authorization("processing")},
        {"status": 302, "headers": {"Location": "http://elsewhere.test/"}},
        {"status": 409, "json": {"error": {"code": "idempotency_key_in_use"}}},
    ],
    ids=["500", "503-html", "not-json", "not-an-object", "no-id", "unknown-status", "processing", "redirect", "409"],
)
def test_any_answer_we_cannot_trust_is_unknown_and_not_resent(fake, acquirer, answer):
    fake.add(responses.POST, AUTHORIZATIONS, **answer)
    fake.post(AUTHORIZATIONS, json=authorization())

    result = authorize(acquirer)

    assert result.outcome == Outcome.UNKNOWN
    assert len(fake.calls) == 1


def test_a_dropped_connection_after_sending_is_unknown(fake, acquirer):
    fake.post(AUTHORIZATIONS, body=requests.ConnectionError("('Connection aborted.', RemoteDisconnected())"))
    fake.post(AUTHORIZATIONS, json=authorization())

    result = authorize(acquirer)

    assert result.outcome == Outcome.UNKNOWN
    assert len(fake.calls) == 1


@pytest.mark.parametrize(
    "failure", [requests.ConnectTimeout("connect timed out"), connection_refused()], ids=["connect-timeout", "refused"]
)
def test_a_connection_failure_before_sending_is_retried_with_the_same_key(fake, acquirer, failure):
    fake.post(AUTHORIZATIONS, body=failure)
    fake.post(AUTHORIZATIONS, json=authorization())

    result = authorize(acquirer)

    assert result.outcome == Outcome.AUTHORIZED
    assert keys_sent(fake) == [KEY, KEY]


def test_an_acquirer_never_reached_means_nothing_was_authorised(fake, acquirer):
    fake.post(AUTHORIZATIONS, body=connection_refused())

    result = authorize(acquirer)

    assert result.outcome == Outcome.ERROR
    assert result.failure_code == "processing_error"
    assert keys_sent(fake) == [KEY, KEY, KEY]


def test_a_read_timeout_after_a_connection_failure_is_unknown(fake, acquirer):
    fake.post(AUTHORIZATIONS, body=requests.ConnectTimeout())
    fake.post(AUTHORIZATIONS, body=requests.ReadTimeout())
    fake.post(AUTHORIZATIONS, json=authorization())

    result = authorize(acquirer)

    assert result.outcome == Outcome.UNKNOWN
    assert keys_sent(fake) == [KEY, KEY]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 429])
def test_a_refused_authorisation_request_is_an_error_and_never_retried(fake, acquirer, status):
    fake.post(AUTHORIZATIONS, status=status, json={"error": {"code": "invalid_request", "message": "no"}})
    fake.post(AUTHORIZATIONS, json=authorization())

    result = authorize(acquirer)

    assert result.outcome == Outcome.ERROR
    assert result.failure_code == "processing_error"
    assert len(fake.calls) == 1


def test_retries_stop_when_the_budget_is_spent(fake):
    acquirer = HttpAcquirer(
        base_url=BASE, api_key="k", timeout_seconds=5, retry_backoff_seconds=0, retry_budget_seconds=0
    )
    fake.post(AUTHORIZATIONS, body=requests.ConnectTimeout())

    result = authorize(acquirer)

    assert result.outcome == Outcome.ERROR
    assert len(fake.calls) == 1


# --- inquiry -------------------------------------------------------------------------------------


def inquiry(fake, **answer):
    fake.add(responses.GET, AUTHORIZATIONS, match=[matchers.query_param_matcher({"idempotency_key": KEY})], **answer)


def test_inquiry_resolves_an_unknown_authorisation_as_authorised(fake, acquirer):
    fake.post(AUTHORIZATIONS, body=requests.ReadTimeout())
    inquiry(fake, json=authorization())

    pending = authorize(acquirer)
    resolved = acquirer.inquire(idempotency_key=KEY)

    assert pending.outcome == Outcome.UNKNOWN
    assert resolved.outcome == Outcome.AUTHORIZED and resolved.reference == "auth_123"
    assert [call.request.method for call in fake.calls] == ["POST", "GET"]
    assert keys_sent(fake) == [KEY, KEY]


def test_inquiry_resolves_a_declined_authorisation(fake, acquirer):
    inquiry(fake, json=authorization("declined", decline_code="expired_card"))

    result = acquirer.inquire(idempotency_key=KEY)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "card_declined")
    assert result.failure_message == "The card was declined: it has expired."


def test_inquiry_resolves_an_acquirer_error(fake, acquirer):
    inquiry(fake, json=authorization("error"))

    assert acquirer.inquire(idempotency_key=KEY).outcome == Outcome.ERROR


def test_inquiry_of_an_authorisation_that_never_arrived_settles_it_as_not_authorised(fake, acquirer):
    inquiry(fake, status=404, json={"error": {"code": "authorization_not_found", "message": "No such key"}})

    result = acquirer.inquire(idempotency_key=KEY)

    assert (result.outcome, result.failure_code) == (Outcome.DECLINED, "processing_error")


def test_a_404_that_is_not_the_acquirers_answer_settles_nothing(fake, acquirer):
    inquiry(fake, status=404, body="<html>Not Found</html>")

    with pytest.raises(AcquirerUnavailable):
        acquirer.inquire(idempotency_key=KEY)
    assert len(fake.calls) == 1


@pytest.mark.parametrize(
    "answer",
    [
        {"body": requests.ConnectTimeout()},
        {"body": connection_refused()},
        {"body": requests.ReadTimeout()},
        {"status": 502, "body": "Bad Gateway"},
    ],
    ids=["connect-timeout", "refused", "read-timeout", "502"],
)
def test_inquiry_unreachable_raises_acquirer_unavailable_after_retries(fake, acquirer, answer):
    inquiry(fake, **answer)

    with pytest.raises(AcquirerUnavailable) as raised:
        acquirer.inquire(idempotency_key=KEY)

    assert KEY in str(raised.value)
    assert keys_sent(fake) == [KEY, KEY, KEY]


def test_inquiry_retries_a_read_timeout_then_resolves(fake, acquirer):
    inquiry(fake, body=requests.ReadTimeout())
    inquiry(fake, json=authorization())

    assert acquirer.inquire(idempotency_key=KEY).outcome == Outcome.AUTHORIZED
    assert len(fake.calls) == 2


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 401, "json": {"error": {"code": "unauthorized"}}},
        {"status": 200, "json": authorization("processing")},
        {"status": 200, "body": "garbage"},
    ],
    ids=["401", "processing", "malformed"],
)
def test_inquiry_that_settles_nothing_raises_acquirer_unavailable_without_retrying(fake, acquirer, answer):
    inquiry(fake, **answer)

    with pytest.raises(AcquirerUnavailable):
        acquirer.inquire(idempotency_key=KEY)
    assert len(fake.calls) == 1


def test_inquiry_of_an_open_challenge_says_so(fake, acquirer):
    inquiry(fake, json=authorization("requires_3ds"))

    assert acquirer.inquire(idempotency_key=KEY).outcome == Outcome.REQUIRES_3DS


# --- capture, void, refund -----------------------------------------------------------------------

CAPTURE = f"{AUTHORIZATIONS}/auth_123/capture"
VOID = f"{AUTHORIZATIONS}/auth_123/void"
REFUNDS = f"{BASE}/v1/refunds"


def test_capture_happy_path(fake, acquirer):
    fake.post(
        CAPTURE,
        json={"id": "cap_1", "object": "capture", "status": "succeeded", "amount": 3300},
        match=[matchers.json_params_matcher({"amount": 3300})],
    )

    result = acquirer.capture(reference="auth_123", amount=3300, idempotency_key="kcap")

    assert result.outcome == Outcome.SUCCEEDED and result.ok
    assert result.reference == "auth_123"
    assert keys_sent(fake) == ["kcap"]


def test_void_happy_path(fake, acquirer):
    fake.post(
        VOID, json={"id": "void_1", "object": "void", "status": "succeeded"}, match=[matchers.json_params_matcher({})]
    )

    result = acquirer.void(reference="auth_123", idempotency_key="kvoid")

    assert result.outcome == Outcome.SUCCEEDED
    assert keys_sent(fake) == ["kvoid"]


def test_refund_happy_path(fake, acquirer):
    fake.post(
        REFUNDS,
        json={"id": "ref_9", "object": "refund", "status": "succeeded", "amount": 500},
        match=[matchers.json_params_matcher({"authorization": "auth_123", "amount": 500})],
    )

    result = acquirer.refund(reference="auth_123", amount=500, idempotency_key="kref")

    assert result.outcome == Outcome.SUCCEEDED
    assert result.reference == "ref_9"


def test_capture_500_then_success_is_retried_with_the_same_key(fake, acquirer):
    fake.post(CAPTURE, status=500, json={"error": {"code": "internal"}})
    fake.post(CAPTURE, json={"id": "cap_1", "status": "succeeded"})

    result = acquirer.capture(reference="auth_123", amount=3300, idempotency_key="kcap")

    assert result.outcome == Outcome.SUCCEEDED
    assert keys_sent(fake) == ["kcap", "kcap"]
    assert fake.calls[0].request.body == fake.calls[1].request.body


def test_refund_read_timeout_then_success_is_retried_with_the_same_key(fake, acquirer):
    fake.post(REFUNDS, body=requests.ReadTimeout())
    fake.post(REFUNDS, json={"id": "ref_9", "status": "succeeded"})

    result = acquirer.refund(reference="auth_123", amount=500, idempotency_key="kref")

    assert result.outcome == Outcome.SUCCEEDED
    assert keys_sent(fake) == ["kref", "kref"]


@pytest.mark.parametrize("operation", ["capture", "void", "refund"])
@pytest.mark.parametrize(
    "answer",
    [
        {"status": 503, "body": "down"},
        {"body": requests.ReadTimeout()},
        {"body": connection_refused()},
    ],
    ids=["503", "read-timeout", "refused"],
)
def test_an_operation_without_an_answer_raises_acquirer_unavailable(fake, acquirer, operation, answer):
    url = {"capture": CAPTURE, "void": VOID, "refund": REFUNDS}[operation]
    fake.add(responses.POST, url, **answer)

    with pytest.raises(AcquirerUnavailable) as raised:
        call(acquirer, operation)

    assert keys_sent(fake) == ["kop"] * 3
    assert raised.value.__context__ is None and raised.value.__cause__ is None


def call(acquirer, operation):
    if operation == "void":
        return acquirer.void(reference="auth_123", idempotency_key="kop")
    return getattr(acquirer, operation)(reference="auth_123", amount=500, idempotency_key="kop")


@pytest.mark.parametrize("operation", ["capture", "void", "refund"])
@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_a_refused_operation_is_declined_and_never_retried(fake, acquirer, operation, status):
    url = {"capture": CAPTURE, "void": VOID, "refund": REFUNDS}[operation]
    fake.post(url, status=status, json={"error": {"code": "authorization_expired", "message": "Too late"}})
    fake.post(url, json={"id": "x", "status": "succeeded"})

    result = call(acquirer, operation)

    assert result.outcome == Outcome.DECLINED and not result.ok
    assert result.failure_code == "processing_error"
    assert result.failure_message == f"The acquirer refused the {operation}: the authorisation has expired."
    assert len(fake.calls) == 1


@pytest.mark.parametrize("status", [409, 429])
def test_an_operation_the_acquirer_cannot_take_now_is_unavailable_and_not_retried(fake, acquirer, status):
    fake.post(CAPTURE, status=status, json={"error": {"code": "busy"}})

    with pytest.raises(AcquirerUnavailable):
        acquirer.capture(reference="auth_123", amount=500, idempotency_key="kop")
    assert len(fake.calls) == 1


def test_an_operation_processing_error_is_an_error(fake, acquirer):
    fake.post(REFUNDS, json={"id": "ref_1", "status": "error", "message": "Scheme down"})

    result = acquirer.refund(reference="auth_123", amount=500, idempotency_key="kref")

    assert (result.outcome, result.failure_code) == (Outcome.ERROR, "processing_error")


@pytest.mark.parametrize(
    "answer",
    [
        {"json": {"id": "cap_1", "status": "processing"}},
        {"json": {"status": "maybe"}},
        {"body": "not json"},
    ],
    ids=["processing", "unknown-status", "not-json"],
)
def test_an_operation_answer_that_settles_nothing_is_unavailable(fake, acquirer, answer):
    fake.post(CAPTURE, **answer)

    with pytest.raises(AcquirerUnavailable):
        acquirer.capture(reference="auth_123", amount=500, idempotency_key="kop")
    assert len(fake.calls) == 1


def test_a_refund_without_an_id_is_not_taken_as_done(fake, acquirer):
    fake.post(REFUNDS, json={"status": "succeeded"})

    with pytest.raises(AcquirerUnavailable):
        acquirer.refund(reference="auth_123", amount=500, idempotency_key="kref")


# --- configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://acquirer.example.com",
        "ftp://acquirer.example.com",
        "acquirer.example.com",
        "",
        "https://user:secret@acquirer.example.com",
        "https://acquirer.example.com/?x=1",
        "http://127.0.0.1.example.com",
        "http://10.0.0.5:8080",
    ],
)
def test_only_https_urls_are_accepted(url):
    with pytest.raises(ImproperlyConfigured) as raised:
        HttpAcquirer(base_url=url, api_key="k")
    assert "secret" not in str(raised.value)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080", "http://localhost:9000/api/", "http://[::1]:8000", "https://acquirer.example.com/base/"],
)
def test_https_or_a_loopback_url_is_accepted(fake, url):
    acquirer = HttpAcquirer(base_url=url, api_key="k", retry_backoff_seconds=0)
    fake.get(url.rstrip("/") + "/v1/authorizations", json=authorization())

    assert acquirer.inquire(idempotency_key=KEY).outcome == Outcome.AUTHORIZED


def test_from_settings(settings):
    settings.ACQUIRER_URL = "https://acquirer.example.com"
    settings.ACQUIRER_API_KEY = "sk_live_x"
    settings.ACQUIRER_TIMEOUT_SECONDS = 8.0

    acquirer = HttpAcquirer.from_settings()

    assert acquirer.read_timeout == 8.0
    assert 0 < acquirer.connect_timeout < acquirer.read_timeout
    assert "sk_live_x" not in repr(acquirer)


def test_from_settings_requires_a_url_and_a_key(settings):
    settings.ACQUIRER_URL = ""
    settings.ACQUIRER_API_KEY = "sk_live_x"
    with pytest.raises(ImproperlyConfigured):
        HttpAcquirer.from_settings()
    settings.ACQUIRER_URL = "https://acquirer.example.com"
    settings.ACQUIRER_API_KEY = ""
    with pytest.raises(ImproperlyConfigured):
        HttpAcquirer.from_settings()


def test_get_acquirer_builds_the_http_acquirer_for_live_mode(settings):
    settings.LIVE_ACQUIRER = "http"
    settings.ACQUIRER_URL = "https://acquirer.example.com"
    settings.ACQUIRER_API_KEY = "sk_live_x"

    assert isinstance(get_acquirer(is_live=True), HttpAcquirer)


def test_timeouts_come_from_settings_and_connect_is_shorter(fake, acquirer, monkeypatch):
    seen = {}
    original = requests.Session.request

    def spy(self, method, url, **kwargs):
        seen["timeout"] = kwargs["timeout"]
        seen["allow_redirects"] = kwargs["allow_redirects"]
        return original(self, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", spy)
    fake.post(AUTHORIZATIONS, json=authorization())

    authorize(acquirer)

    connect, read = seen["timeout"]
    assert read == 5 and connect < read
    assert seen["allow_redirects"] is False


@pytest.mark.parametrize(
    "arguments",
    [
        {"idempotency_key": ""},
        {"idempotency_key": "has space"},
        {"idempotency_key": "x" * 256},
        {"amount": 0},
        {"amount": 10.5},
        {"amount": True},
        {"currency": "eur"},
    ],
)
def test_bad_arguments_are_refused_before_anything_is_sent(fake, acquirer, arguments):
    with pytest.raises(ValueError):
        authorize(acquirer, **arguments)
    assert len(fake.calls) == 0


# --- card data -----------------------------------------------------------------------------------

CVC_ALONE = re.compile(rf"(?<![0-9]){CVC}(?![0-9])")


def assert_no_card_data(text):
    assert NUMBER not in text
    assert not CVC_ALONE.search(text), "the security code leaked"


def test_card_number_and_cvc_never_reach_logs_results_or_exceptions(fake, acquirer, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, requests/urllib3 included
    # an acquirer that echoes the card back, in its answer and in its message
    echo = {"number": NUMBER, "cvc": CVC, "last4": NUMBER[-4:]}
    fake.post(AUTHORIZATIONS, json=authorization(card=echo, message=f"card {NUMBER} cvc {CVC} ok"))
    fake.post(
        AUTHORIZATIONS,
        json=authorization(
            "declined", decline_code="incorrect_cvc", card=echo, message=f"wrong cvc {CVC} for {NUMBER}"
        ),
    )
    fake.post(AUTHORIZATIONS, body=requests.ReadTimeout(f"timed out sending {NUMBER}"))
    fake.post(AUTHORIZATIONS, status=400, json={"error": {"code": "bad", "message": f"{NUMBER} {CVC}"}})

    results = [authorize(acquirer, idempotency_key=f"k{attempt}") for attempt in range(4)]
    errors = []
    for bad in (
        CardData(number=NUMBER + "x", exp_month=1, exp_year=2030, cvc=CVC),
        CardData(number=NUMBER, exp_month=1, exp_year=2030, cvc=CVC),
    ):
        try:
            authorize(acquirer, card=bad, amount=-1 if bad.number == NUMBER else 100)
        except ValueError as error:
            errors.append(error)

    assert [result.outcome for result in results] == [
        Outcome.AUTHORIZED,
        Outcome.DECLINED,
        Outcome.UNKNOWN,
        Outcome.ERROR,
    ]
    assert len(errors) == 2
    logged = caplog.text + "".join(
        f"{record.getMessage()} {record.args!r} {record.__dict__!r}" for record in caplog.records
    )
    assert "k0" in logged and NUMBER[-4:] in logged  # it does log the key and last4
    assert_no_card_data(logged)
    for thing in [*results, *errors, *(call.request.body for call in fake.calls)]:
        assert_no_card_data(repr(thing))
        assert_no_card_data(str(thing))
    assert_no_card_data(repr(card()))


def test_the_request_body_carries_the_card_but_never_shows_it(fake, acquirer):
    fake.post(AUTHORIZATIONS, json=authorization())

    authorize(acquirer)

    body = fake.calls[0].request.body
    assert json.loads(body)["card"]["number"] == NUMBER  # what goes on the wire
    assert repr(body) == str(body) == f"{body}" == f"<request body: {len(body)} bytes, redacted>"


def test_unreachable_errors_hold_no_request(fake, acquirer):
    fake.get(AUTHORIZATIONS, body=requests.ReadTimeout())

    with pytest.raises(AcquirerUnavailable) as raised:
        acquirer.inquire(idempotency_key=KEY)

    error = raised.value
    assert error.__context__ is None and error.__cause__ is None
    assert "Bearer" not in str(error)
