"""The merchant's fraud settings and reviews of payments held by a fraud decision.

Unreviewed payments: payments.services.expire_due refuses a review once payments' own
`review_deadline` passes. The merchant's choice (FraudSettings.unreviewed_action) is applied
before that by fraud's own beat task (resolve_due_reviews, every minute): each review decision
carries `review_action_at`, REVIEW_MARGIN before payments' deadline. payments never imports fraud;
if fraud's beat stops, the payments deadline still refuses, which is the safe side.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from fraud.models import Decision, FraudSettings, Label
from fraud.services.labels import add_label, feed_label
from payments import services as payments
from payments.models import Payment

REVIEW_MARGIN = timedelta(minutes=10)


# --- settings -------------------------------------------------------------------------------------


def settings_of(merchant_id: int) -> FraudSettings:
    found = FraudSettings.objects.filter(merchant_id=merchant_id).first()
    if found is None:
        try:
            with transaction.atomic():
                found = FraudSettings.objects.create(merchant_id=merchant_id)
        except IntegrityError:
            found = FraudSettings.objects.get(merchant_id=merchant_id)
    return found


def update_settings(merchant, *, unreviewed_action: str, review_hours: int) -> FraudSettings:
    current = settings_of(merchant.pk)
    current.unreviewed_action = unreviewed_action
    current.review_hours = review_hours
    current.full_clean(exclude=["merchant"])
    current.save()
    return current


# --- reviews --------------------------------------------------------------------------------------


class ReviewError(Exception):
    pass


def review(decision_id: int, approve: bool, user=None, *, automatic: bool = False) -> Decision:
    """Approve (capture) or reject (void, fraud_suspected) a payment held for review, once.

    The Decision row is claimed first (compare-and-set on review_outcome) in the same transaction
    as the payment transition, so two reviewers, or a reviewer and the deadline, cannot both act.
    """
    if automatic:
        outcome = Decision.Review.AUTO_APPROVED if approve else Decision.Review.AUTO_REFUSED
    else:
        outcome = Decision.Review.APPROVED if approve else Decision.Review.REJECTED
    now = timezone.now()
    label = None
    with transaction.atomic():
        decision = Decision.objects.select_for_update().select_related("payment").get(pk=decision_id)
        if decision.review_outcome:
            if decision.review_outcome == outcome:
                return decision  # retried
            raise ReviewError("This payment has already been reviewed.")
        if decision.outcome != Decision.Outcome.REVIEW or decision.payment.status != Payment.Status.IN_REVIEW:
            raise ReviewError("This payment is not waiting for a review.")
        decision.review_outcome = outcome
        decision.reviewed_at = now
        decision.reviewed_by = user if user is not None and user.is_authenticated else None
        decision.save(update_fields=["review_outcome", "reviewed_at", "reviewed_by"])
        if approve:
            payments.accept(decision.payment_id)
        else:
            message = "The review was not completed in time." if automatic else None
            payments.refuse(decision.payment_id, "fraud_suspected", message)
        if not automatic:
            source = Label.Source.REVIEW_APPROVED if approve else Label.Source.REVIEW_REJECTED
            label = add_label(decision.payment, source, is_fraud=not approve, at=now, user=decision.reviewed_by)
    if label is not None and label.is_fraud:
        transaction.on_commit(lambda: feed_label(label.pk))
    return decision


def resolve_due_reviews(now: datetime | None = None, limit: int = 500) -> int:
    """Beat task body: unreviewed payments at their deadline get the merchant's chosen outcome."""
    now = now or timezone.now()
    due = Decision.objects.filter(
        outcome=Decision.Outcome.REVIEW, review_outcome="", review_action_at__lte=now
    ).values_list("pk", "merchant_id")[:limit]
    done = 0
    for decision_id, merchant_id in due:
        approve = settings_of(merchant_id).unreviewed_action == FraudSettings.Unreviewed.APPROVE
        try:
            review(decision_id, approve, automatic=True)
            done += 1
        except ReviewError:  # reviewed, aborted or expired meanwhile: nothing left to do
            Decision.objects.filter(pk=decision_id, review_outcome="").update(
                review_outcome=Decision.Review.AUTO_REFUSED if not approve else Decision.Review.AUTO_APPROVED,
                reviewed_at=now,
            )
    return done
