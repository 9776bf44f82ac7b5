"""Captures, cancellations and refunds through the Adyen connector, against a strict fake of
Adyen's Checkout API v71 modifications, which Adyen answers ``201 received`` and confirms later
by webhook:

* https://docs.adyen.com/api-explorer/Checkout/71/post/payments/(paymentPspReference)/captures
* https://docs.adyen.com/api-explorer/Checkout/71/post/payments/(paymentPspReference)/cancels
* https://docs.adyen.com/api-explorer/Checkout/71/post/payments/(paymentPspReference)/refunds
* https://docs.adyen.com/online-payments/capture (partial captures, the CAPTURE webhook)
* https://docs.adyen.com/development-resources/api-idempotency
"""

import pytest
import requests

from payments.acquirers.base import AcquirerUnavailable, Outcome
from tests.payments.acquirers.adyen.fakes import IN_PROGRESS, INTERNAL, MERCHANT_ACCOUNT, UNAUTHORIZED, read_timeout

PSP = "993617895204576J"
KEY = "idem_pay2m7QbVx0LrT5cKzA9eWq4N_1"


def received(own="8825000000000001", amount=None, **extra):
    answer = {
        "merchantAccount": MERCHANT_ACCOUNT,
        "paymentPspReference": PSP,
        "pspReference": own,
        "status": "received",
    }
    if amount is not None:
        answer["amount"] = {"currency": "EUR", "value": amount}
    answer.update(extra)
    return answer


def test_a_full_capture_is_accepted_and_confirmed_later(fake, adyen):
    fake.expect(
        f"/payments/{PSP}/captures",
        received(amount=3300, reference=f"{KEY}-capture"),
        status=201,
        body={
            "merchantAccount": MERCHANT_ACCOUNT,
            "amount": {"currency": "EUR", "value": 3300},
            "reference": f"{KEY}-capture",
        },
        idempotency_key=f"{KEY}-capture.captures",
    )

    result = adyen.capture(reference=PSP, amount=3300, idempotency_key=f"{KEY}-capture")

    assert result.outcome == Outcome.SUCCEEDED
    assert result.reference == PSP
    assert result.raw["status"] == "received"  # accepted: the CAPTURE notification confirms it


def test_a_partial_capture_sends_the_partial_amount(fake, adyen):
    fake.expect(f"/payments/{PSP}/captures", received(amount=1200), status=201)

    result = adyen.capture(reference=PSP, amount=1200, idempotency_key=f"{KEY}-capture")

    assert result.outcome == Outcome.SUCCEEDED
    assert fake.bodies[0]["amount"] == {"currency": "EUR", "value": 1200}


def test_a_void_cancels_the_authorisation(fake, adyen):
    fake.expect(
        f"/payments/{PSP}/cancels",
        received(reference=f"{KEY}-void"),
        status=201,
        body={"merchantAccount": MERCHANT_ACCOUNT, "reference": f"{KEY}-void"},
        idempotency_key=f"{KEY}-void.voids",
    )

    result = adyen.void(reference=PSP, idempotency_key=f"{KEY}-void")

    assert (result.outcome, result.reference) == (Outcome.SUCCEEDED, PSP)


@pytest.mark.parametrize("amount", [3300, 1000])
def test_a_refund_full_or_partial_is_known_by_its_own_psp_reference(fake, adyen, amount):
    fake.expect(
        f"/payments/{PSP}/refunds",
        received(own="8835000000000007", amount=amount),
        status=201,
        body={
            "merchantAccount": MERCHANT_ACCOUNT,
            "amount": {"currency": "EUR", "value": amount},
            "reference": "refund-abc",
        },
        idempotency_key="refund-abc.refunds",
    )

    result = adyen.refund(reference=PSP, amount=amount, idempotency_key="refund-abc")

    assert (result.outcome, result.reference) == (Outcome.SUCCEEDED, "8835000000000007")


def test_a_retry_with_the_same_key_sends_the_same_idempotency_key(fake, adyen):
    fake.expect(f"/payments/{PSP}/refunds", error=read_timeout())
    fake.expect(f"/payments/{PSP}/refunds", received(), status=201)

    with pytest.raises(AcquirerUnavailable):
        adyen.refund(reference=PSP, amount=500, idempotency_key="refund-abc")
    result = adyen.refund(reference=PSP, amount=500, idempotency_key="refund-abc")

    assert result.outcome == Outcome.SUCCEEDED
    assert fake.headers[0]["idempotency-key"] == fake.headers[1]["idempotency-key"] == "refund-abc.refunds"
    assert fake.bodies[0] == fake.bodies[1]


def call(adyen, operation):
    if operation == "capture":
        return adyen.capture(reference=PSP, amount=3300, idempotency_key=f"{KEY}-capture")
    if operation == "void":
        return adyen.void(reference=PSP, idempotency_key=f"{KEY}-void")
    return adyen.refund(reference=PSP, amount=3300, idempotency_key="refund-abc")


PATHS = {"capture": "captures", "void": "cancels", "refund": "refunds"}


@pytest.mark.parametrize("operation", ["capture", "void", "refund"])
@pytest.mark.parametrize(
    ("status", "answer", "error"),
    [
        (201, None, read_timeout()),
        (201, None, requests.ConnectionError("Connection refused")),
        (500, INTERNAL, None),
        (502, None, None),
        (401, UNAUTHORIZED, None),
        (403, {"status": 403, "errorCode": "010", "message": "Not allowed", "errorType": "security"}, None),
        (422, IN_PROGRESS, None),
        (429, {"status": 429, "errorCode": "000", "message": "Too many requests", "errorType": "security"}, None),
        (201, {"status": "received"}, None),  # no pspReference
        (201, {"pspReference": "8825000000000001", "status": "processing"}, None),
        (201, received(paymentPspReference="883600000000000X"), None),  # another payment
        (201, [], None),
    ],
)
def test_a_modification_without_a_usable_answer_is_unavailable(fake, adyen, operation, status, answer, error):
    fake.expect(f"/payments/{PSP}/{PATHS[operation]}", answer, status=status, error=error)

    with pytest.raises(AcquirerUnavailable):
        call(adyen, operation)


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        ("capture", "Amount of the capture exceeds the authorised amount"),
        ("void", "Original pspReference required for this operation"),
        ("refund", "Refund amount exceeds the captured amount 4970101234567893"),
    ],
)
def test_a_refused_modification_is_declined_with_adyens_reason(fake, adyen, operation, message):
    error = {
        "status": 422,
        "errorCode": "167",
        "message": message,
        "errorType": "validation",
        "pspReference": "8825000000000002",
    }
    fake.expect(f"/payments/{PSP}/{PATHS[operation]}", error, status=422)

    result = call(adyen, operation)

    assert (result.outcome, result.failure_code, result.reference) == (Outcome.DECLINED, "processing_error", PSP)
    assert f"Adyen refused the {operation}" in result.failure_message
    assert message.split()[0] in result.failure_message
    assert "4970101234567893" not in result.failure_message


@pytest.mark.parametrize("reference", ["", "../refunds", "psp with space", None])
def test_a_bad_reference_or_amount_is_refused_before_anything_is_sent(mock, adyen, reference):
    with pytest.raises(ValueError):
        adyen.capture(reference=reference, amount=3300, idempotency_key=f"{KEY}-capture")
    with pytest.raises(ValueError):
        adyen.refund(reference=PSP, amount=0, idempotency_key="refund-abc")
    assert len(mock.calls) == 0
