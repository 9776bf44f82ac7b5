"""Celery tasks of the notifications app: thin wrappers that take ids and call services.

Services queue them by name (`payplug.queue.enqueue`), so nothing imports this module to queue work;
`NotificationsConfig.ready()` imports it to register the tasks.
"""

from celery import shared_task

from notifications.services import delivery, emails, sweeper


@shared_task(name="notifications.dispatch_event", acks_late=True)
def dispatch_event(event_id: int):
    delivery.dispatch(event_id)


@shared_task(name="notifications.deliver", bind=True, acks_late=True)
def deliver_task(self, delivery_id: int):
    # The task id survives a redelivery (worker killed, acks_late): it lets the redelivered message
    # take back the claim its dead predecessor left on the delivery.
    delivery.deliver(delivery_id, token=self.request.id or "")


@shared_task(name="notifications.sweep")
def sweep(**options):
    return sweeper.sweep(**options)


@shared_task(name="notifications.send_daily_summaries")
def send_daily_summaries():
    return emails.send_daily_summaries()
