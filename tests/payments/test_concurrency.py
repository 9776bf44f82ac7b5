"""Races on one payment with real concurrent MySQL connections (spec §4, §7.5, §8).

Each thread has its own database connection; a barrier releases them together.
"""

import base64
import os

import pytest
from django.db import connection
from django.test import Client

from notifications.models import Event
from payments import services, vault
from payments.acquirers.base import CardData
from payments.errors import PaymentError
from payments.models import Payment, PaymentAttempt, Refund, SandboxOperation, VaultEntry
from payplug import keyring

from .helpers import create_payment, hosted_path, pay, payment_body, race

pytestmark = pytest.mark.mysql


def test_it_runs_on_mysql():
    assert connection.vendor == "mysql"


def test_concurrent_refunds_never_exceed_the_amount(api):
    payment = create_payment(api)
    pay(payment)
    db_payment = Payment.objects.get(public_id=payment["id"])

    _results, errors = race(6, lambda i: services.refund(db_payment, 1000))

    succeeded = [e for e in errors if e is None]
    refused = [e for e in errors if isinstance(e, PaymentError)]
    assert len(succeeded) == 3 and len(refused) == 3
    assert all(e.code == "refund_exceeds_remaining" for e in refused)
    db_payment.refresh_from_db()
    assert db_payment.amount_refunded == 3000
    assert sum(Refund.objects.filter(payment=db_payment).values_list("amount", flat=True)) == 3000


def test_concurrent_full_refunds_refund_once(api):
    payment = create_payment(api)
    pay(payment)
    db_payment = Payment.objects.get(public_id=payment["id"])

    _results, errors = race(4, lambda i: services.refund(db_payment, None))

    assert sum(e is None for e in errors) == 1
    assert Refund.objects.filter(payment=db_payment).count() == 1
    assert SandboxOperation.objects.filter(kind="refund").count() == 1


def test_concurrent_captures_capture_once(api):
    body = payment_body()
    body["authorized_amount"] = body.pop("amount")
    payment = api.post("/v1/payments", body).json()
    pay(payment)
    db_payment = Payment.objects.get(public_id=payment["id"])
    assert db_payment.status == Payment.Status.CAPTURABLE

    _results, errors = race(4, lambda i: services.capture(db_payment))

    assert errors == [None] * 4
    db_payment.refresh_from_db()
    assert db_payment.status == Payment.Status.PAID
    assert SandboxOperation.objects.filter(kind="capture").count() == 1
    assert Event.objects.filter(object_id=payment["id"], type="payment.paid").count() == 1


def test_concurrent_card_submissions_of_one_page_charge_once(api):
    payment = create_payment(api)
    db_payment = Payment.objects.get(public_id=payment["id"])
    card = CardData(number="4242424242424242", exp_month=12, exp_year=2034, cvc="123")

    _results, errors = race(5, lambda i: services.submit_card(db_payment.pk, card))

    assert sum(e is None for e in errors) == 1
    assert all(isinstance(e, PaymentError) for e in errors if e is not None)
    assert PaymentAttempt.objects.filter(payment=db_payment).count() == 1
    assert SandboxOperation.objects.filter(kind="authorize").count() == 1
    db_payment.refresh_from_db()
    assert db_payment.status == Payment.Status.PAID


def test_concurrent_form_posts_in_several_tabs_charge_once(api):
    payment = create_payment(api)
    path = hosted_path(payment)
    form = {"cardholder": "J M", "number": "4242 4242 4242 4242", "expiry": "12/34", "cvc": "123"}

    race(4, lambda i: Client().post(path, form))

    assert SandboxOperation.objects.filter(kind="authorize").count() == 1
    assert Payment.objects.get(public_id=payment["id"]).status == Payment.Status.PAID


def test_refund_racing_abort_and_capture_is_serialized(api):
    body = payment_body()
    body["authorized_amount"] = body.pop("amount")
    payment = api.post("/v1/payments", body).json()
    pay(payment)
    db_payment = Payment.objects.get(public_id=payment["id"])

    def work(i):
        return services.capture(db_payment) if i % 2 == 0 else services.abort(db_payment)

    _results, _errors = race(4, work)

    db_payment.refresh_from_db()
    captures = SandboxOperation.objects.filter(kind="capture").count()
    voids = SandboxOperation.objects.filter(kind="void").count()
    # Whichever committed first won; the losers saw the new state and were refused.
    assert (db_payment.status, captures, voids) in [(Payment.Status.PAID, 1, 0), (Payment.Status.FAILED, 0, 1)]


def test_concurrent_requests_with_one_idempotency_key_create_one_payment(api):
    body = payment_body()

    results, _errors = race(4, lambda i: api.post("/v1/payments", body, headers={"Idempotency-Key": "same"}))

    statuses = sorted(r.status_code for r in results)
    assert Payment.objects.count() == 1
    assert set(statuses) <= {201, 409}
    assert 201 in statuses


def test_key_rotation_while_payments_are_made(api, settings):
    for _ in range(5):
        pay(create_payment(api, save_card=True))
    new_key = base64.b64encode(os.urandom(32)).decode()
    settings.CARD_KEYS = settings.CARD_KEYS + f",2:{new_key}"
    settings.CARD_FINGERPRINT_KEY = "fingerprint-key-for-rotation-test"
    keyring.reset_cache()

    def work(i):
        if i == 0:
            return services_rotate()
        paid = []
        for _ in range(3):
            payment = create_payment(api, save_card=True)
            pay(payment)
            paid.append(payment["id"])
        return paid

    def services_rotate():
        return vault.rotate_all(batch_size=2)

    _results, errors = race(3, work)

    assert errors == [None, None, None]
    assert set(VaultEntry.objects.values_list("key_version", flat=True)) == {2}
    assert Payment.objects.filter(status=Payment.Status.PAID).count() == 11
    for entry in VaultEntry.objects.all():
        assert vault.reveal(entry) == "4242424242424242"
    keyring.reset_cache()
