"""Pages expire after 24 h, deferred authorisations after 7 days (spec §7.4, §7.6)."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from payments import services
from payments.acquirers.base import AcquirerResult, Outcome
from payments.models import Payment, PaymentAttempt, SandboxOperation

from .helpers import create_payment, pay, payment_body

pytestmark = pytest.mark.django_db


def test_an_unpaid_page_fails_with_timeout_after_24_hours(api):
    payment = create_payment(api)

    services.expire_due(now=timezone.now() + timedelta(hours=24, seconds=1))

    body = api.get(f"/v1/payments/{payment['id']}").json()
    assert body["failure"]["code"] == "timeout"
    assert Payment.objects.get(public_id=payment["id"]).status == Payment.Status.FAILED


def test_a_page_with_a_failed_attempt_keeps_its_last_failure_when_it_expires(api):
    payment = create_payment(api)
    pay(payment, number="4000 0000 0000 0002")

    services.expire_due(now=timezone.now() + timedelta(hours=25))

    body = api.get(f"/v1/payments/{payment['id']}").json()
    assert body["failure"]["code"] == "card_declined"
    assert Payment.objects.get(public_id=payment["id"]).status == Payment.Status.FAILED


def test_an_expired_page_cannot_be_paid(api):
    payment = create_payment(api)
    Payment.objects.filter(public_id=payment["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = pay(payment)

    assert not SandboxOperation.objects.exists()
    assert b"expired" in response.content


def test_a_deferred_authorisation_expires_after_7_days_and_is_voided(api):
    body = payment_body()
    body["authorized_amount"] = body.pop("amount")
    payment = api.post("/v1/payments", body).json()
    pay(payment)

    services.expire_due(now=timezone.now() + timedelta(days=7, minutes=1))

    body = api.get(f"/v1/payments/{payment['id']}").json()
    assert body["failure"]["code"] == "timeout"
    assert SandboxOperation.objects.filter(kind="void").count() == 1
    capture = api.patch(f"/v1/payments/{payment['id']}", {"captured": True})
    assert capture.status_code == 400


def test_capture_after_expiry_is_refused_even_before_the_sweeper(api):
    body = payment_body()
    body["authorized_amount"] = body.pop("amount")
    payment = api.post("/v1/payments", body).json()
    pay(payment)
    Payment.objects.filter(public_id=payment["id"]).update(
        authorization_expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = api.patch(f"/v1/payments/{payment['id']}", {"captured": True})

    assert response.json()["code"] == "authorization_expired"
    assert Payment.objects.get(public_id=payment["id"]).status == Payment.Status.CAPTURABLE


def test_a_review_past_its_deadline_is_refused(api):
    payment = create_payment(api)
    db_payment = Payment.objects.get(public_id=payment["id"])
    attempt = PaymentAttempt.objects.create(
        payment=db_payment,
        status=PaymentAttempt.Status.PROCESSING,
        card_last4="4242",
        card_brand="Visa",
        card_exp_month=12,
        card_exp_year=2034,
        card_fingerprint="x",
        acquirer="sandbox",
    )
    Payment.objects.filter(pk=db_payment.pk).update(status=Payment.Status.PENDING)
    # Authorised, then held for review (as the fraud engine decides; its task is kept out here).
    with mock.patch("fraud.services.scoring.decide"):
        services.apply_authorization(attempt.pk, AcquirerResult(outcome=Outcome.AUTHORIZED, reference="sbx_r"))
    services.hold_for_review(db_payment.pk)
    assert Payment.objects.get(pk=db_payment.pk).status == Payment.Status.IN_REVIEW

    services.expire_due(now=timezone.now() + timedelta(hours=49))

    db_payment.refresh_from_db()
    assert db_payment.status == Payment.Status.FAILED
    assert db_payment.failure_code == "fraud_suspected"
