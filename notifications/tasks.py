from celery import shared_task

from . import services


@shared_task(name="notifications.dispatch_event", acks_late=True)
def dispatch_event(event_id: int):
    services.dispatch(event_id)
