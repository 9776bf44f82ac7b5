"""The living demo (issue 12, item 23): `make run`'s demo merchant has sample data in every state."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings
from django.utils import timezone

from fraud import demo_data
from fraud.models import Decision
from merchants.models import Merchant
from notifications.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint
from payments.models import (
    Customer,
    Dispute,
    LedgerTransaction,
    Payment,
    PaymentLink,
    Payout,
    Refund,
)

# Payment flows rely on on_commit hooks (outbox dispatch, fraud decision): commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def seed(name="demo"):
    out = io.StringIO()
    call_command("seed_demo", name=name, stdout=out)
    call_command("seed_demo_data", name=name, stdout=out)
    return Merchant.objects.get(memberships__user__email=f"{name}@demo.payplatform.test"), out.getvalue()


def tenant_counts(merchant):
    return {
        "payments": Payment.objects.filter(merchant=merchant).count(),
        "refunds": Refund.objects.filter(merchant=merchant).count(),
        "disputes": Dispute.objects.filter(merchant=merchant).count(),
        "payouts": Payout.objects.filter(merchant=merchant).count(),
        "links": PaymentLink.objects.filter(merchant=merchant).count(),
        "endpoints": WebhookEndpoint.objects.filter(merchant=merchant).count(),
        "events": Event.objects.filter(merchant=merchant).count(),
        "ledger": LedgerTransaction.objects.filter(merchant=merchant).count(),
        "customers": Customer.objects.filter(merchant=merchant).count(),
    }


def test_the_demo_merchant_gets_every_state_once_and_the_ledger_balances(merchant_a):
    before_a = tenant_counts(merchant_a)
    merchant, output = seed()
    now = timezone.now()
    assert "Sample data for 'demo'" in output
    payments = Payment.objects.filter(merchant=merchant, is_live=False)
    assert not Payment.objects.filter(merchant=merchant, is_live=True).exists()  # test mode only

    # Paid, refunded in full, partially refunded.
    paid = payments.filter(status=Payment.Status.PAID)
    assert paid.count() >= 30
    assert paid.filter(amount_refunded=0).exists()
    assert any(p.amount_refunded == p.amount for p in paid.filter(amount_refunded__gt=0))
    assert any(0 < p.amount_refunded < p.amount for p in paid)
    # Failed: declined three times, and refused by the fraud engine.
    failed = payments.filter(status=Payment.Status.FAILED)
    assert set(failed.values_list("failure_code", flat=True)) >= {"card_declined", "fraud_suspected"}
    # A payment that failed once, then was paid with another card.
    assert paid.filter(failed_attempts__gt=0).exists()
    # In review, with its deadline ahead.
    review = payments.get(status=Payment.Status.IN_REVIEW, billing_email="felix.wagner@example.de")
    assert review.review_deadline > now
    assert Decision.objects.get(payment=review).outcome == Decision.Outcome.REVIEW
    # Disputes: one open with its deadline ahead, one won.
    open_dispute = Dispute.objects.get(merchant=merchant, status=Dispute.Status.NEEDS_RESPONSE)
    assert now + timedelta(days=5) < open_dispute.evidence_due_by < now + timedelta(days=10)
    assert Dispute.objects.filter(merchant=merchant, status=Dispute.Status.WON).exists()
    # Payouts: paid ones, and today's in transit.
    assert Payout.objects.filter(merchant=merchant, is_live=False, status=Payout.Status.PAID).count() >= 10
    assert Payout.objects.filter(merchant=merchant, status=Payout.Status.IN_TRANSIT, payout_date=now.date()).exists()
    # A payment link with its payments.
    link = PaymentLink.objects.get(merchant=merchant, is_live=False)
    assert link.payments.filter(status=Payment.Status.PAID).count() >= 5
    # Webhook endpoints with deliveries, some failed; all to the platform's own loopback receiver.
    endpoints = WebhookEndpoint.objects.filter(merchant=merchant, is_live=False)
    assert endpoints.count() == 2
    deliveries = Delivery.objects.filter(merchant=merchant, kind=Delivery.Kind.WEBHOOK)
    assert deliveries.count() >= 5
    assert DeliveryAttempt.objects.filter(delivery__in=deliveries, succeeded=False).exists()
    assert all(url.startswith("http://127.0.0.1:") for url in deliveries.values_list("target", flat=True))
    # Shoppers who came back, and customers of the API.
    emails = list(paid.values_list("billing_email", flat=True))
    assert max(emails.count(e) for e in set(emails)) >= 4
    assert Customer.objects.filter(merchant=merchant, is_live=False).exists()
    # Spread over the last 30 days, so that the home chart has a shape.
    days = {p.created_at.date() for p in paid}
    assert len(days) >= 18
    assert min(days) <= (now - timedelta(days=25)).date()
    assert max(p.created_at for p in payments) <= now
    # Every row of a sample carries its moment: the capture's ledger posting is dated as the payment.
    sample = paid.order_by("created_at").first()
    capture = LedgerTransaction.objects.get(unique_key=f"capture:{sample.pk}")
    assert abs(capture.created_at - sample.paid_at) < timedelta(seconds=5)
    assert sample.paid_at < now - timedelta(days=20)

    call_command("check_ledger", stdout=io.StringIO())  # raises CommandError if it does not balance

    # A second run changes nothing.
    after_first = tenant_counts(merchant)
    _, output = seed()
    assert "already has its sample data" in output
    assert tenant_counts(merchant) == after_first
    # Nothing reached another merchant.
    assert tenant_counts(merchant_a) == before_a


def test_seed_demo_data_needs_the_demo_merchant():
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("seed_demo_data", name="nobody here", stdout=io.StringIO())


def test_the_demo_clock_is_put_back():
    real = timezone.now()
    with demo_data.demo_clock(real - timedelta(days=10)) as clock:
        assert abs(timezone.now() - (real - timedelta(days=10))) < timedelta(seconds=1)
        clock.set(real - timedelta(days=2))
        assert timezone.now().date() == (real - timedelta(days=2)).date()
        assert isinstance(real, timezone.datetime)  # Django's isinstance checks still see datetimes
    assert abs(timezone.now() - real) < timedelta(minutes=1)


def test_the_webhook_receiver_url_never_leaves_the_machine():
    with override_settings(PUBLIC_BASE_URL="https://pay.example.com"):
        assert demo_data.sandbox_receiver_url() == "http://127.0.0.1:8000/sandbox/webhooks/"
    with override_settings(PUBLIC_BASE_URL="http://0.0.0.0:8765"):
        assert demo_data.sandbox_receiver_url("failing/") == "http://127.0.0.1:8765/sandbox/webhooks/failing/"


def test_the_sandbox_receiver_answers_under_make_run_only():
    client = Client()
    with override_settings(DEBUG=True):
        assert client.post("/sandbox/webhooks/", b"{}", content_type="application/json").status_code == 204
        assert client.post("/sandbox/webhooks/failing/", b"{}", content_type="application/json").status_code == 503
        assert client.get("/sandbox/webhooks/").status_code == 405
    assert client.post("/sandbox/webhooks/", b"{}", content_type="application/json").status_code == 404
