"""The sweeper (beat task `notifications.sweep`): re-queues what a lost message left behind.

A broker outage or a dead worker delays notifications but never loses them: events committed
and never dispatched are dispatched again, deliveries due but whose task was lost are queued again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from notifications.models import Delivery, Event
from notifications.services.delivery import enqueue_deliveries
from payplug.queue import enqueue

logger = logging.getLogger(__name__)


def sweep(*, grace_seconds: float = 30, requeue_after_seconds: float = 120, limit: int = 1000) -> dict[str, int]:
    """Beat task body: re-queue what a lost message left behind.

    - events committed more than `grace_seconds` ago and never dispatched (the broker was down
      at commit time, or the dispatch task was lost);
    - deliveries due for more than `grace_seconds`, not held by a live attempt, and with no task
      queued in the last `requeue_after_seconds` (so a backlog is not queued again each sweep).
    Duplicates are harmless: dispatch and deliver are idempotent.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=grace_seconds)
    stale = now - timedelta(seconds=requeue_after_seconds)
    event_ids = list(
        Event.objects.filter(dispatched_at__isnull=True, created_at__lte=cutoff)
        .filter(Q(swept_at__isnull=True) | Q(swept_at__lte=stale))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    events = 0
    for event_id in event_ids:
        if not enqueue("notifications.dispatch_event", [event_id]):
            break  # broker unavailable (enqueue logged it): the next sweep tries again
        Event.objects.filter(pk=event_id).update(swept_at=now)
        events += 1
    delivery_ids = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=cutoff)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=stale))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    deliveries = enqueue_deliveries(delivery_ids)
    if events or deliveries:
        logger.info("sweeper re-queued %s event(s) and %s delivery(ies)", events, deliveries)
    return {"events": events, "deliveries": deliveries}
