"""End to end in-process: a payment paid on the hosted page sends its IPN, and the answer shows as
`notification.response_code` on GET /v1/payments/{id} (spec §7.1, §12)."""

import json

import pytest

from notifications.models import Delivery
from notifications.services.delivery import deliver
from tests.payments.helpers import create_payment, pay

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("allow_private")]


def test_the_paid_ipn_reaches_the_merchant_and_its_answer_is_recorded(api, receiver):
    payment = create_payment(api, notification_url=receiver.url("/ipn"))
    assert payment["notification"] == {"url": receiver.url("/ipn"), "response_code": None}

    pay(payment)

    assert receiver.wait_for(1)
    (ipn,) = receiver.received
    body = json.loads(ipn.body)
    assert body["id"] == payment["id"] and body["object"] == "payment" and body["is_paid"] is True
    assert ipn.header("X-Signature").startswith("t=")
    fetched = api.get(f"/v1/payments/{payment['id']}").json()
    assert fetched["notification"]["response_code"] == 200
    # the body is the resource as it was when it became paid (before the response code existed)
    assert body == {**fetched, "notification": {"url": receiver.url("/ipn"), "response_code": None}}


def test_each_attempt_records_its_status_then_the_retry_records_the_success(api, receiver):
    receiver.fail(1, status=503)
    payment = create_payment(api, notification_url=receiver.url("/ipn"))
    pay(payment)

    assert api.get(f"/v1/payments/{payment['id']}").json()["notification"]["response_code"] == 503

    delivery = Delivery.objects.get(event__object_id=payment["id"], kind=Delivery.Kind.IPN)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
    deliver(delivery.pk)

    assert api.get(f"/v1/payments/{payment['id']}").json()["notification"]["response_code"] == 200


def test_no_http_answer_is_recorded_as_0(api, settings):
    settings.NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS = False  # the loopback URL is refused
    payment = create_payment(api, notification_url="http://127.0.0.1:9/ipn")
    pay(payment)

    assert api.get(f"/v1/payments/{payment['id']}").json()["notification"]["response_code"] == 0


def test_a_refund_ipn_goes_to_the_payment_url_and_records_on_the_payment(api, receiver):
    payment = create_payment(api, notification_url=receiver.url("/ipn"))
    pay(payment)
    assert receiver.wait_for(1)
    receiver.fail(1, status=502)

    refund = api.post(f"/v1/payments/{payment['id']}/refunds", {"amount": 500})
    assert refund.status_code == 201

    assert receiver.wait_for(2)
    body = json.loads(receiver.received[1].body)
    assert body["object"] == "refund" and body["payment_id"] == payment["id"]
    assert api.get(f"/v1/payments/{payment['id']}").json()["notification"]["response_code"] == 502


def test_no_notification_url_means_no_ipn(api, receiver):
    payment = create_payment(api, notification_url=None)
    pay(payment)
    assert not Delivery.objects.filter(kind=Delivery.Kind.IPN).exists()
    assert api.get(f"/v1/payments/{payment['id']}").json()["notification"] == {"url": None, "response_code": None}
