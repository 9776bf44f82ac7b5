"""Publishing events. Call `publish` inside the transaction that makes the change."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .models import Event

logger = logging.getLogger(__name__)


def publish(
    *, merchant, is_live: bool, type: str, object_type: str, object_id: str, payload: dict, ipn_url: str | None = None
) -> Event:
    """Record an event in the current transaction; it is dispatched only if the transaction commits.

    The caller holds the lock of the object that changed, so the per-object sequence cannot race.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("publish() must run inside the transaction that makes the change")
    last = Event.objects.filter(object_id=object_id).aggregate(last=Max("sequence"))["last"] or 0
    event = Event.objects.create(
        merchant=merchant,
        is_live=is_live,
        type=type,
        object_type=object_type,
        object_id=object_id,
        sequence=last + 1,
        payload=payload,
        ipn_url=ipn_url or None,
    )
    transaction.on_commit(lambda: _enqueue(event.pk))
    return event


def _enqueue(event_id: int) -> None:
    from .tasks import dispatch_event

    try:
        dispatch_event.delay(event_id)
    except Exception:  # broker down: the sweeper re-enqueues undispatched events
        logger.warning("could not enqueue event %s; the sweeper will retry", event_id, exc_info=True)


def dispatch(event_id: int) -> list[str]:
    """Fan an event out to its internal subscribers, once. Returns the task names notified."""
    from celery import current_app

    from .registry import subscribers

    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return []
    notified = []
    for task_name in subscribers(event.type):
        if current_app.conf.task_always_eager:
            # send_task() ignores eager mode: run the subscriber in-process like any eager task.
            current_app.tasks[task_name].apply(args=[event.pk])
        else:
            current_app.send_task(task_name, args=[event.pk])
        notified.append(task_name)
    Event.objects.filter(pk=event.pk, dispatched_at__isnull=True).update(dispatched_at=timezone.now())
    return notified
