"""The outbox: other apps publish their events here, inside the transaction that makes the change.

After the commit the event's fan-out (`notifications.dispatch_event`, see `delivery.dispatch`) is
queued; if the broker is down the event stays undispatched and the sweeper queues it later.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from notifications.models import Event
from payplug.queue import enqueue_after_commit


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
    # Broker down: enqueue logs a warning and the sweeper dispatches the undispatched event later.
    enqueue_after_commit("notifications.dispatch_event", [event.pk])
    return event
