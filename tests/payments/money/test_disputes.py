"""Disputes: the sandbox chargeback card, balance effects, evidence, outcomes, events."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from notifications.models import Event
from payments.errors import PaymentError
from payments.models import Dispute, LedgerTransaction, Payment, ScheduledChargeback
from payments.money import disputes, ledger
from tests.payments.helpers import create_payment, pay
from tests.payments.money.test_ledger_tripwire import ledger_tripwire  # noqa: F401  autouse: check_ledger after each test

DISPUTE_CARD = "4000 0000 0000 0259"


def paid_with_dispute_card(api):
    payment = create_payment(api)
    pay(payment, number=DISPUTE_CARD)
    return payment


def test_the_dispute_card_is_paid_then_a_chargeback_is_scheduled_minutes_later(api):
    payment = paid_with_dispute_card(api)

    body = api.get(f"/v1/payments/{payment['id']}").json()
    assert body["is_paid"] is True and body["dispute"] is None
    scheduled = ScheduledChargeback.objects.get(payment__public_id=payment["id"])
    assert timedelta(minutes=4) < scheduled.due_at - timezone.now() <= timedelta(minutes=5)
    assert disputes.open_due_chargebacks() == 0  # not due yet


def test_the_beat_task_opens_the_chargeback_when_due(api, merchant_a):
    payment = paid_with_dispute_card(api)

    assert disputes.open_due_chargebacks(timezone.now() + timedelta(minutes=6)) == 1

    body = api.get(f"/v1/payments/{payment['id']}").json()
    assert body["dispute"]["amount"] == 3300
    assert body["dispute"]["reason"] == "fraudulent"
    assert isinstance(body["dispute"]["created_at"], int)
    dispute = Dispute.objects.get()
    assert dispute.status == Dispute.Status.NEEDS_RESPONSE and dispute.fee == 1500
    assert dispute.evidence_due_by > timezone.now() + timedelta(days=9)
    # A second run (or the countdown task arriving late) opens nothing more.
    assert disputes.open_due_chargebacks(timezone.now() + timedelta(minutes=7)) == 0
    assert disputes.open_scheduled(Payment.objects.get(public_id=payment["id"]).pk, force=True) is None


def test_a_chargeback_takes_the_amount_and_fee_from_the_merchant(api, merchant_a):
    other = create_payment(api, amount=10000)
    pay(other)
    payment = paid_with_dispute_card(api)
    before = ledger.balances(merchant_a.pk, False).held

    disputes.open_scheduled(Payment.objects.get(public_id=payment["id"]).pk, force=True)

    assert ledger.balances(merchant_a.pk, False).held == before - 3300 - 1500
    chargeback = LedgerTransaction.objects.get(kind="chargeback")
    assert (chargeback.gross, chargeback.net) == (-3300, -3300)
    assert LedgerTransaction.objects.get(kind="fee", dispute__isnull=False).fee == 1500


def test_a_chargeback_bigger_than_the_balance_is_an_explicit_debt(api, merchant_a):
    payment = paid_with_dispute_card(api)

    disputes.open_scheduled(Payment.objects.get(public_id=payment["id"]).pk, force=True)

    balances = ledger.balances(merchant_a.pk, False)
    assert balances.pending == 0 and balances.available == 0
    assert balances.reserve == -(3300 + 1500 - 3229)
    assert balances.debt == 1571


def test_the_dispute_is_published_with_an_ipn_of_the_payment(api):
    payment = paid_with_dispute_card(api)

    disputes.open_scheduled(Payment.objects.get(public_id=payment["id"]).pk, force=True)

    event = Event.objects.get(type="payment.disputed")
    assert event.ipn_url == "https://shop.example.org/ipn"
    assert event.payload["id"] == payment["id"] and event.payload["dispute"]["amount"] == 3300


def test_a_disputed_payment_cannot_be_refunded(api):
    payment = paid_with_dispute_card(api)
    disputes.open_scheduled(Payment.objects.get(public_id=payment["id"]).pk, force=True)

    response = api.post(f"/v1/payments/{payment['id']}/refunds", {"amount": 100})

    assert response.status_code == 400 and response.json()["code"] == "payment_disputed"


def test_won_gives_the_money_back_but_not_the_fee(api, merchant_a):
    big = create_payment(api, amount=10000)
    pay(big)
    payment = paid_with_dispute_card(api)
    before = ledger.balances(merchant_a.pk, False).held
    dispute = disputes.open_scheduled(Payment.objects.get(public_id=payment["id"]).pk, force=True)

    disputes.close(dispute, won=True)

    assert ledger.balances(merchant_a.pk, False).held == before - 1500
    assert not Event.objects.filter(type="payment.dispute_lost").exists()
    assert Event.objects.filter(type="payment.dispute_won").exists()


def test_won_repays_a_debt_first(api, merchant_a):
    payment = paid_with_dispute_card(api)
    dispute = disputes.open_scheduled(Payment.objects.get(public_id=payment["id"]).pk, force=True)

    disputes.close(dispute, won=True)

    balances = ledger.balances(merchant_a.pk, False)
    assert balances.reserve == 0 and balances.available == 3300 - 1571


def test_lost_is_final_and_published_for_the_fraud_engine(api, merchant_a):
    payment = paid_with_dispute_card(api)
    dispute = disputes.open_scheduled(Payment.objects.get(public_id=payment["id"]).pk, force=True)
    held = ledger.balances(merchant_a.pk, False).held

    disputes.close(dispute, won=False)

    assert ledger.balances(merchant_a.pk, False).held == held
    event = Event.objects.get(type="payment.dispute_lost")
    assert event.object_id == payment["id"] and event.ipn_url is None
    with pytest.raises(PaymentError):
        disputes.close(dispute, won=True)
    assert LedgerTransaction.objects.filter(kind="chargeback_lost").count() == 1


def test_no_evidence_by_the_deadline_loses(api):
    payment = paid_with_dispute_card(api)
    dispute = disputes.open_scheduled(Payment.objects.get(public_id=payment["id"]).pk, force=True)

    assert disputes.expire_overdue(dispute.evidence_due_by + timedelta(seconds=1)) == 1

    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.LOST


def test_the_merchant_sees_the_dispute_uploads_evidence_and_submits(api, alice_client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    payment = paid_with_dispute_card(api)
    dispute = disputes.open_scheduled(Payment.objects.get(public_id=payment["id"]).pk, force=True)
    url = reverse("dashboard:dispute", args=[dispute.public_id])

    listing = alice_client.get(reverse("dashboard:disputes")).content.decode()
    detail = alice_client.get(reverse("dashboard:payment", args=[payment["id"]])).content.decode()
    upload = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 proof", content_type="application/pdf")
    alice_client.post(url, {"action": "upload", "file": upload})
    alice_client.post(url, {"action": "submit", "text": "Delivered, signed for."})

    assert dispute.public_id in listing and "Fraudulent" in listing
    assert dispute.public_id in detail
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.UNDER_REVIEW
    assert dispute.evidence.get().original_name == "receipt.pdf"
    assert dispute.evidence_text == "Delivered, signed for."


def test_evidence_of_a_wrong_type_is_refused(api, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    payment = paid_with_dispute_card(api)
    dispute = disputes.open_scheduled(Payment.objects.get(public_id=payment["id"]).pk, force=True)

    with pytest.raises(PaymentError, match="PDF"):
        disputes.add_evidence(dispute, SimpleUploadedFile("x.exe", b"MZ", content_type="application/x-msdownload"))

    assert not dispute.evidence.exists()


def test_test_mode_can_simulate_a_chargeback_from_the_dashboard(api, alice_client):
    payment = create_payment(api)
    pay(payment)

    alice_client.post(reverse("dashboard:payment_chargeback", args=[payment["id"]]))

    assert api.get(f"/v1/payments/{payment['id']}").json()["dispute"]["amount"] == 3300
