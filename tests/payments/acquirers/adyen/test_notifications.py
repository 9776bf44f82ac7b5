"""Adyen standard webhooks: HMAC signatures computed the documented way (HMAC-SHA256, hex key,
over pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:
eventCode:success, base64), and the translation of each event code.

* https://docs.adyen.com/development-resources/webhooks/secure-webhooks/verify-hmac-signatures
* https://docs.adyen.com/development-resources/webhooks (notificationItems, "[accepted]")
* https://docs.adyen.com/online-payments/capture (CAPTURE, CAPTURE_FAILED)
* https://docs.adyen.com/risk-management/disputes-api (NOTIFICATION_OF_CHARGEBACK, CHARGEBACK, CHARGEBACK_REVERSED)
"""

import json
from datetime import datetime

import pytest

from payments.acquirers.adyen_acquirer import AdyenAcquirer
from payments.acquirers.base import InvalidNotification
from tests.payments.acquirers.adyen.conftest import NOW, config
from tests.payments.acquirers.adyen.fakes import MERCHANT_ACCOUNT, notification, notification_item

PAYMENT = "8816000000000001"
MODIFICATION = "8826000000000002"
EVENT_TIME = int(datetime.fromisoformat("2026-11-04T10:15:00+01:00").timestamp())


def parse(adyen, *items, live="false"):
    return adyen.parse_notification(notification(*items, live=live), {"Content-Type": "application/json"})


def test_a_signed_authorisation_becomes_an_authorized_event(adyen):
    [event] = parse(adyen, notification_item("AUTHORISATION", "true"))

    assert event.kind == "authorized"
    assert event.reference == PAYMENT
    assert event.idempotency_key == "idem_attempt_1"
    assert (event.amount, event.currency) == (3300, "EUR")
    assert event.created_at == EVENT_TIME
    assert event.raw_type == "AUTHORISATION"
    assert event.operation_reference == ""


def test_a_failed_authorisation_carries_our_failure_code(adyen):
    [event] = parse(adyen, notification_item("AUTHORISATION", "false", reason="Not enough balance"))

    assert (event.kind, event.failure_code) == ("authorization_failed", "card_declined")
    assert "insufficient funds" in event.failure_message


@pytest.mark.parametrize(
    ("event_code", "success", "kind", "failure_code"),
    [
        ("CAPTURE", "true", "captured", ""),
        ("CAPTURE", "false", "capture_failed", "processing_error"),
        ("CAPTURE_FAILED", "true", "capture_failed", "processing_error"),
        ("REFUND", "true", "refunded", ""),
        ("REFUND", "false", "refund_failed", "processing_error"),
        ("REFUND_FAILED", "true", "refund_failed", "processing_error"),
        ("CANCELLATION", "true", "canceled", ""),
        ("CANCELLATION", "false", "ignored", "processing_error"),
    ],
)
def test_modification_events_name_the_payment_and_the_modification(adyen, event_code, success, kind, failure_code):
    item = notification_item(
        event_code, success, pspReference=MODIFICATION, originalReference=PAYMENT, merchantReference="refund-abc"
    )

    [event] = parse(adyen, item)

    assert (event.kind, event.failure_code) == (kind, failure_code)
    assert (event.reference, event.operation_reference) == (PAYMENT, MODIFICATION)
    assert event.idempotency_key == "refund-abc"


@pytest.mark.parametrize(
    ("event_code", "kind"),
    [
        ("NOTIFICATION_OF_CHARGEBACK", "dispute_opened"),
        ("CHARGEBACK", "dispute_lost"),
        ("CHARGEBACK_REVERSED", "dispute_won"),
        ("SECOND_CHARGEBACK", "dispute_lost"),
    ],
)
def test_dispute_events(adyen, event_code, kind):
    item = notification_item(
        event_code,
        "true",
        pspReference=MODIFICATION,
        originalReference=PAYMENT,
        reason="Other Fraud-Card Absent Environment",
        additionalData={"chargebackReasonCode": "10.4"},
    )

    [event] = parse(adyen, item)

    assert (event.kind, event.reference, event.operation_reference) == (kind, PAYMENT, MODIFICATION)
    assert event.failure_message == "Other Fraud-Card Absent Environment (10.4)"


def test_other_events_are_verified_then_ignored(adyen):
    [event] = parse(adyen, notification_item("REPORT_AVAILABLE", "true", reason="https://ca-test.adyen.com/report.csv"))

    assert event.kind == "ignored"
    assert event.raw_type == "REPORT_AVAILABLE"


def test_a_redelivered_notification_gives_the_same_event_with_the_same_id(adyen):
    item = notification_item("CAPTURE", "true", pspReference=MODIFICATION, originalReference=PAYMENT)

    first, second = parse(adyen, item), parse(adyen, item)

    assert first == second
    assert first[0].provider_event_id == f"adyen:CAPTURE:{MODIFICATION}:{PAYMENT}:true"


def test_distinct_events_of_one_payment_have_distinct_ids(adyen):
    events = parse(
        adyen,
        notification_item("AUTHORISATION", "true"),
        notification_item("CAPTURE", "true", pspReference=MODIFICATION, originalReference=PAYMENT),
        notification_item("REFUND", "true", pspReference="8836000000000003", originalReference=PAYMENT),
        notification_item("REFUND", "true", pspReference="8836000000000004", originalReference=PAYMENT),
    )

    assert [event.kind for event in events] == ["authorized", "captured", "refunded", "refunded"]
    assert len({event.provider_event_id for event in events}) == 4


def tampered(item, **changes):
    item["NotificationRequestItem"].update(changes)
    return item


@pytest.mark.parametrize(
    "item",
    [
        notification_item(signature="coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0="),
        notification_item(key="00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"),
        tampered(notification_item(), amount={"currency": "EUR", "value": 999999}),
        tampered(notification_item(), success="false"),
        tampered(notification_item(), pspReference="8816000000009999"),
        tampered(notification_item(), eventCode="REFUND"),
        tampered(notification_item(), additionalData={}),
        tampered(notification_item(), additionalData={"hmacSignature": ""}),
    ],
)
def test_a_bad_signature_is_rejected(adyen, item):
    with pytest.raises(InvalidNotification):
        parse(adyen, item)


@pytest.mark.parametrize(
    "event_date",
    ["2026-09-20T10:15:00+01:00", "2026-11-04T12:15:00+01:00", "2026-11-04T10:15:00", "yesterday"],
)
def test_a_stale_future_or_malformed_event_date_is_rejected(adyen, event_date):
    # eventDate is not signed: the item stays correctly signed.
    item = notification_item(eventDate=event_date)

    with pytest.raises(InvalidNotification):
        parse(adyen, item)


def test_a_notification_thirty_days_old_is_still_taken_adyen_retries_that_long(adyen):
    [event] = parse(adyen, notification_item(eventDate="2026-10-05T10:20:00+01:00"))

    assert event.kind == "authorized"


def test_one_bad_item_rejects_the_whole_batch(adyen):
    with pytest.raises(InvalidNotification):
        parse(
            adyen, notification_item(), tampered(notification_item("CAPTURE"), amount={"currency": "EUR", "value": 1})
        )


def test_another_merchant_account_or_environment_is_rejected(adyen):
    with pytest.raises(InvalidNotification):
        parse(adyen, notification_item(merchantAccountCode="SomeoneElseECOM"))
    with pytest.raises(InvalidNotification):
        parse(adyen, notification_item(), live="true")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"live": "false"}',
        b'{"live": "false", "notificationItems": []}',
        b'{"live": "false", "notificationItems": [{"Other": {}}]}',
        json.dumps(
            {"live": "false", "notificationItems": [{"NotificationRequestItem": {"eventCode": "CAPTURE"}}]}
        ).encode(),
        notification(tampered(notification_item(), amount={"currency": "EUR", "value": "3300"})),
        notification(tampered(notification_item(), success=True)),
        notification(tampered(notification_item(), merchantReference=42)),
    ],
)
def test_a_body_that_does_not_match_the_schema_is_rejected(adyen, body):
    with pytest.raises(InvalidNotification):
        adyen.parse_notification(body, {})


def test_without_an_hmac_key_nothing_is_accepted():
    adyen = AdyenAcquirer(config(webhook_secret=""), clock=lambda: NOW)

    with pytest.raises(InvalidNotification):
        parse(adyen, notification_item())


def test_a_live_connector_takes_live_notifications_only():
    adyen = AdyenAcquirer(config(test_environment=False), live_url_prefix="abc-Demo", clock=lambda: NOW)

    [event] = parse(adyen, notification_item(), live="true")

    assert event.kind == "authorized"
    with pytest.raises(InvalidNotification):
        parse(adyen, notification_item(), live="false")


def test_the_acknowledgement_is_what_adyen_requires(adyen):
    assert adyen.acknowledgement() == ("[accepted]", "text/plain")


def test_parsing_sends_nothing(mock, adyen):
    parse(adyen, notification_item())

    assert len(mock.calls) == 0
    assert adyen.merchant_account == MERCHANT_ACCOUNT
