from celery import shared_task

from notifications.models import Event

from . import services


@shared_task(name="fraud.score_payment", acks_late=True)
def score_payment(event_id: int):
    """Subscriber of `payment.authorized`: score the payment and carry out the decision, once."""
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return
    from payments.models import Payment

    payment_id = Payment.objects.filter(public_id=event.object_id).values_list("pk", flat=True).first()
    if payment_id is not None:
        services.decide(payment_id)
