"""Decisions end to end: a payment paid on the hosted page is scored by the Celery task (eager here)."""

from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from fraud import tasks
from fraud.models import Decision, FraudSettings, Label, ListEntry, Rule
from fraud.services import reviews, scoring
from merchants.models import Membership
from notifications.models import Event
from payments.models import Payment
from payments.money import disputes
from payments.vault import fingerprint
from tests import factories
from tests.payments.helpers import create_payment, pay


@pytest.fixture(autouse=True)
def _real_commits(transactional_db):
    """The outbox dispatches `payment.authorized` to fraud after the commit: commit for real."""
    return


def paid(api, number="4242 4242 4242 4242", **overrides):
    payment = create_payment(api, **overrides)
    pay(payment, number=number)
    return Payment.objects.get(public_id=payment["id"])


def hold_with_rule(merchant, source="review if amount > 1"):
    Rule.objects.create(merchant=merchant, is_live=False, position=1, source=source)


def test_an_ordinary_payment_is_scored_and_captured(api):
    p = paid(api)

    decision = Decision.objects.get(payment=p)
    assert p.status == Payment.Status.PAID
    assert decision.outcome == Decision.Outcome.CAPTURE
    assert 0 <= decision.score < 70
    assert decision.model_version == "default"
    assert decision.features["card_count_30d"] == 0
    assert decision.features["amount"] == 33.0


def test_the_sandbox_fraud_card_scores_100_and_is_refused(api, merchant_a):
    # even with an allow list entry for it: the test card is always refused
    ListEntry.objects.create(merchant=merchant_a, is_live=False, list="allow", kind="card",
                             value=fingerprint("4100000000000019"))  # fmt: skip

    p = paid(api, number="4100 0000 0000 0019")

    decision = Decision.objects.get(payment=p)
    assert (decision.score, decision.outcome) == (100, Decision.Outcome.REFUSE)
    assert decision.rule == scoring.SANDBOX_RULE
    assert p.status == Payment.Status.FAILED
    assert p.failure_code == "fraud_suspected"
    assert api.get(f"/v1/payments/{p.public_id}").json()["failure"]["code"] == "fraud_suspected"


def test_a_rule_sends_the_payment_to_review_with_a_deadline(api, merchant_a):
    hold_with_rule(merchant_a)

    p = paid(api)

    decision = Decision.objects.get(payment=p)
    assert p.status == Payment.Status.IN_REVIEW
    assert decision.outcome == Decision.Outcome.REVIEW
    assert decision.rule == "review if amount > 1"
    assert decision.review_action_at == p.review_deadline - reviews.REVIEW_MARGIN


def test_a_block_list_refuses(api, merchant_a):
    ListEntry.objects.create(merchant=merchant_a, is_live=False, list="block", kind="email", value="jeanne@example.org")

    p = paid(api)

    assert p.status == Payment.Status.FAILED and p.failure_code == "fraud_suspected"
    assert Decision.objects.get(payment=p).rule.startswith("block list")


def test_an_allow_list_beats_the_rules(api, merchant_a):
    hold_with_rule(merchant_a)
    ListEntry.objects.create(merchant=merchant_a, is_live=False, list="allow", kind="country", value="FR")

    p = paid(api)

    assert p.status == Payment.Status.PAID


def test_a_redelivered_task_decides_once(api, merchant_a):
    hold_with_rule(merchant_a)
    p = paid(api)
    event = Event.objects.get(type="payment.authorized", object_id=p.public_id)
    Rule.objects.all().delete()  # a second scoring would now capture

    tasks.score_payment(event.pk)
    tasks.score_payment(event.pk)

    assert Decision.objects.filter(payment=p).count() == 1
    p.refresh_from_db()
    assert p.status == Payment.Status.IN_REVIEW


def test_a_racing_delivery_keeps_the_first_decision(api, merchant_a):
    hold_with_rule(merchant_a)
    with mock.patch("fraud.tasks.scoring.decide"):  # keep the payment authorised, undecided
        p = paid(api)
    assert p.status == Payment.Status.AUTHORIZED
    first = Decision.objects.create(payment=p, merchant=merchant_a, is_live=False, score=5, outcome="capture")

    scoring.decide(p.pk)  # the redelivered task arrives after another worker decided

    p.refresh_from_db()
    assert Decision.objects.get(payment=p).pk == first.pk
    assert p.status == Payment.Status.PAID


def test_the_payment_is_fed_to_the_feature_store_once(api, fresh_feature_store):
    p = paid(api)
    event = Event.objects.get(type="payment.authorized", object_id=p.public_id)
    tasks.score_payment(event.pk)

    second = paid(api)

    assert Decision.objects.get(payment=second).features["card_count_30d"] == 1


def test_declines_are_counted(api):
    declined = create_payment(api)
    pay(declined, number="4000 0000 0000 0002")
    pay(declined, number="4000 0000 0000 0002")

    p = paid(api, number="4000 0000 0000 0002")  # a third payment; first a decline on the same card...
    assert p.status != Payment.Status.PAID
    other = paid(api)
    assert Decision.objects.get(payment=other).features["email_declines_1d"] >= 2


def reviewer_client(client, merchant, role=Membership.Role.SUPPORT):
    user = factories.member(merchant, f"{role}@example.org", role)
    client.force_login(user)
    return client


def test_approving_a_review_captures(api, merchant_a, client):
    hold_with_rule(merchant_a)
    p = paid(api)
    client = reviewer_client(client, merchant_a)

    response = client.post(reverse("dashboard:fraud_review", args=[p.public_id]), {"action": "approve"})

    assert response.status_code == 302
    p.refresh_from_db()
    decision = Decision.objects.get(payment=p)
    assert p.status == Payment.Status.PAID
    assert decision.review_outcome == Decision.Review.APPROVED
    assert decision.reviewed_by is not None
    assert Label.objects.get(payment=p).is_fraud is False


def test_rejecting_a_review_voids_and_labels_fraud(api, merchant_a, client, fresh_feature_store):
    hold_with_rule(merchant_a)
    p = paid(api)
    client = reviewer_client(client, merchant_a)

    client.post(reverse("dashboard:fraud_review", args=[p.public_id]), {"action": "reject"})

    p.refresh_from_db()
    assert p.status == Payment.Status.FAILED and p.failure_code == "fraud_suspected"
    assert p.attempts.get().status == "voided"
    label = Label.objects.get(payment=p)
    assert label.is_fraud and label.source == Label.Source.REVIEW_REJECTED
    # the label reached the online store: the merchant's next payment sees one fraud report
    Rule.objects.all().delete()
    nxt = paid(api)
    assert Decision.objects.get(payment=nxt).features["merchant_fraud_reports_1d"] == 1


def test_a_second_review_is_refused_and_changes_nothing(api, merchant_a, client):
    hold_with_rule(merchant_a)
    p = paid(api)
    client = reviewer_client(client, merchant_a)
    client.post(reverse("dashboard:fraud_review", args=[p.public_id]), {"action": "approve"})

    client.post(reverse("dashboard:fraud_review", args=[p.public_id]), {"action": "reject"})

    p.refresh_from_db()
    assert p.status == Payment.Status.PAID
    assert Decision.objects.get(payment=p).review_outcome == Decision.Review.APPROVED


def test_an_accountant_cannot_review(api, merchant_a, client):
    hold_with_rule(merchant_a)
    p = paid(api)
    client = reviewer_client(client, merchant_a, Membership.Role.ACCOUNTANT)

    response = client.post(reverse("dashboard:fraud_review", args=[p.public_id]), {"action": "approve"})

    assert response.status_code == 403
    p.refresh_from_db()
    assert p.status == Payment.Status.IN_REVIEW


@pytest.mark.parametrize(
    ("action", "status", "outcome"),
    [
        ("approve", Payment.Status.PAID, Decision.Review.AUTO_APPROVED),
        ("refuse", Payment.Status.FAILED, Decision.Review.AUTO_REFUSED),
    ],
)
def test_the_merchant_setting_decides_unreviewed_payments_at_the_deadline(api, merchant_a, action, status, outcome):
    FraudSettings.objects.create(merchant=merchant_a, unreviewed_action=action, review_hours=2)
    hold_with_rule(merchant_a)
    p = paid(api)
    decision = Decision.objects.get(payment=p)
    assert p.review_deadline <= timezone.now() + timedelta(hours=2)
    assert decision.review_action_at < p.review_deadline  # fraud acts before payments' own deadline

    assert reviews.resolve_due_reviews(now=decision.review_action_at - timedelta(seconds=1)) == 0
    assert reviews.resolve_due_reviews(now=decision.review_action_at) == 1

    p.refresh_from_db()
    decision.refresh_from_db()
    assert p.status == status
    assert decision.review_outcome == outcome


def test_a_lost_dispute_becomes_a_fraud_label(api, merchant_a):
    payment = create_payment(api)
    pay(payment, number="4000 0000 0000 0259")
    p = Payment.objects.get(public_id=payment["id"])
    dispute = disputes.open_scheduled(p.pk, force=True)

    disputes.close(dispute, won=False)

    label = Label.objects.get(payment=p)
    assert label.source == Label.Source.DISPUTE_LOST and label.is_fraud
    event = Event.objects.get(type="payment.dispute_lost")
    assert label.fraud_reported_at == event.created_at
