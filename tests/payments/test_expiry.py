"""Pages expire after 24 h, deferred authorisations after 7 days (spec §7.4, §7.6)."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from payments import services
from payments.acquirers.base import AcquirerResult, Outcome
from payments.models import Payment, PaymentAttempt, SandboxOperation

from .helpers import answer_3ds, create_payment, pay, payment_body

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


# --- a 3-D Secure challenge nobody answers ---------------------------------------------------------

CHALLENGE_CARD = "4000 0025 0000 3155"


def _challenged(api):
    payment = create_payment(api)
    pay(payment, number=CHALLENGE_CARD)
    assert Payment.objects.get(public_id=payment["id"]).status == Payment.Status.PENDING
    return payment


def test_a_challenge_left_unanswered_is_abandoned_and_the_payment_leaves_pending(api):
    payment = _challenged(api)

    services.expire_due(now=timezone.now() + services.CHALLENGE_LIFETIME + timedelta(seconds=1))

    p = Payment.objects.get(public_id=payment["id"])
    assert p.status == Payment.Status.CREATED  # the page lives on: the shopper may try again
    assert p.failure_code == "3ds_declined"
    attempt = p.attempts.get()
    assert attempt.status == PaymentAttempt.Status.FAILED
    assert not SandboxOperation.objects.filter(outcome=Outcome.AUTHORIZED).exists()
    body = api.get(f"/v1/payments/{payment['id']}").json()
    assert body["is_paid"] is False and body["failure"]["code"] == "3ds_declined"


def test_a_challenge_still_within_its_lifetime_is_left_alone(api):
    payment = _challenged(api)

    services.expire_due(now=timezone.now() + services.CHALLENGE_LIFETIME - timedelta(minutes=1))

    assert Payment.objects.get(public_id=payment["id"]).status == Payment.Status.PENDING


def test_an_answer_after_the_challenge_was_abandoned_charges_nothing(api):
    payment = _challenged(api)
    services.expire_due(now=timezone.now() + services.CHALLENGE_LIFETIME + timedelta(seconds=1))

    answer_3ds(payment, "approve")

    p = Payment.objects.get(public_id=payment["id"])
    assert p.status != Payment.Status.PAID and not p.is_paid
    assert not SandboxOperation.objects.filter(outcome=Outcome.AUTHORIZED).exists()


def test_a_challenge_abandoned_while_the_acquirer_is_down_is_retried_later(api):
    payment = _challenged(api)
    later = timezone.now() + services.CHALLENGE_LIFETIME + timedelta(seconds=1)
    with mock.patch(
        "payments.acquirers.sandbox.SandboxAcquirer.complete_3ds", side_effect=services.AcquirerUnavailable("down")
    ):
        services.expire_due(now=later)
    assert Payment.objects.get(public_id=payment["id"]).status == Payment.Status.PENDING

    services.reconcile_pending(older_than_seconds=0)  # the acquirer hands the challenge back
    PaymentAttempt.objects.update(updated_at=timezone.now() - services.CHALLENGE_LIFETIME)
    services.expire_due()

    p = Payment.objects.get(public_id=payment["id"])
    assert p.status == Payment.Status.CREATED and p.failure_code == "3ds_declined"


def test_a_page_whose_challenge_was_never_answered_fails_when_the_page_expires(api):
    payment = _challenged(api)

    services.expire_due(now=timezone.now() + timedelta(hours=24, seconds=1))

    p = Payment.objects.get(public_id=payment["id"])
    assert p.status == Payment.Status.FAILED
