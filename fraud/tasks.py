"""Celery tasks of the fraud app: thin wrappers that load rows and call fraud.services."""

from celery import shared_task

from fraud.services import labels, reviews, scoring
from notifications.models import Event
from payments.models import Payment


def _payment_of(event_id: int) -> Payment | None:
    event = Event.objects.filter(pk=event_id).first()
    if event is None or event.object_type != "payment":
        return None
    return Payment.objects.filter(public_id=event.object_id).first()


@shared_task(name="fraud.score_payment", acks_late=True)
def score_payment(event_id: int):
    """Subscriber of `payment.authorized`: score the payment and carry out the decision, once."""
    payment = _payment_of(event_id)
    if payment is not None:
        scoring.decide(payment.pk)


@shared_task(name="fraud.record_decline", acks_late=True)
def record_decline(event_id: int):
    """Subscriber of `payment.failed`: issuer declines feed the `*_declines_1d` features."""
    payment = _payment_of(event_id)
    if payment is not None:
        labels.record_decline(payment)


@shared_task(name="fraud.record_dispute_lost", acks_late=True)
def record_dispute_lost(event_id: int):
    """Subscriber of `payment.dispute_lost`: a lost dispute is a fraud label, known from the event's time."""
    event = Event.objects.filter(pk=event_id).first()
    payment = _payment_of(event_id)
    if event is not None and payment is not None:
        labels.record_dispute_lost(payment, event.created_at)


@shared_task(name="fraud.resolve_due_reviews")
def resolve_due_reviews():
    """Beat, every minute: unreviewed payments get the merchant's chosen outcome before payments'
    own review deadline refuses them."""
    return reviews.resolve_due_reviews()
