"""Celery tasks of the notifications app: thin wrappers that take ids and call services."""

from celery import shared_task

from notifications import services


@shared_task(name="notifications.dispatch_event", acks_late=True)
def dispatch_event(event_id: int):
    services.dispatch(event_id)


@shared_task(name="notifications.deliver", bind=True, acks_late=True)
def deliver_task(self, delivery_id: int):
    # The task id survives a redelivery (worker killed, acks_late): it lets the redelivered message
    # take back the claim its dead predecessor left on the delivery.
    services.deliver(delivery_id, token=self.request.id or "")


@shared_task(name="notifications.sweep")
def sweep(**options):
    return services.sweep(**options)


@shared_task(name="notifications.send_daily_summaries")
def send_daily_summaries():
    return services.send_daily_summaries()
