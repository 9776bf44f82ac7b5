"""Delivering events: the fan-out of an event into deliveries, one attempt of a delivery, retries.

1. `dispatch()` (task `notifications.dispatch_event`, queued by `outbox.publish`) notifies the
   internal subscribers and creates, once, one Delivery per target: the IPN (`event.ipn_url`),
   every enabled webhook endpoint of the merchant and mode subscribed to the type, every team
   member subscribed to the matching email. Then it queues `notifications.deliver` for each.
2. `deliver()` claims the delivery (compare-and-set: one attempt at a time, never after a
   success), makes one attempt, records it, and schedules the next one on failure (RETRY_SCHEDULE,
   with jitter) until the delivery succeeds or fails for good.
3. A task the broker lost is queued again by the sweeper (`sweeper.sweep`): delivery is at least
   once, whatever happens to the broker or a worker.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications import registry, signing, transport
from notifications.models import (
    EMAIL_TOPIC_EVENTS,
    Delivery,
    DeliveryAttempt,
    EmailSubscription,
    Event,
    WebhookEndpoint,
)
from notifications.services.emails import send_event_email
from notifications.services.endpoints import ipn_secret, track_endpoint_health
from payplug.ids import random_base62
from payplug.metrics import DELIVERY_FAILURES
from payplug.queue import enqueue, is_eager

Kind = Delivery.Kind
Status = Delivery.Status

# Waits after the 1st, 2nd, ... 8th failed attempt (spec §12), each with ±10 % jitter; the 9th
# failed attempt (about 46 h after the first) fails the delivery.
RETRY_SCHEDULE = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
]
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
JITTER = 0.1
# How long one attempt may hold a delivery: the HTTP exchange is capped at ~10 s, an email at the
# SMTP timeout. A worker that dies mid-attempt releases it when this runs out.
HTTP_LEASE = timedelta(seconds=60)
EMAIL_LEASE = timedelta(minutes=5)
# Retries this close are queued with a countdown; later ones are left to the sweeper (an ETA
# longer than the broker's visibility timeout would be redelivered before it is due).
COUNTDOWN_LIMIT = timedelta(minutes=15)


# --- fan-out ---------------------------------------------------------------------------------------


def dispatch(event_id: int) -> list[str]:
    """Fan an event out: internal subscribers, then its deliveries, created once. Returns the
    internal task names notified. Safe to run again for the same event (redelivered task, sweeper)."""
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return []
    notified = []
    # Subscribers first (in-process in eager mode, like any eager task): if the broker refuses one,
    # stop here; enqueue logged it and the event stays undispatched for the sweeper.
    for task_name in registry.subscribers(event.type):
        if not enqueue(task_name, [event.pk]):
            return notified
        notified.append(task_name)
    # Then the deliveries, created and the event marked dispatched in one transaction; a delivery
    # whose task cannot be queued now is queued by the sweeper.
    enqueue_deliveries(create_deliveries(event), mark=False)
    return notified


def _targets(event: Event) -> list[Delivery]:
    # Their tasks are queued right after the creation commits (enqueued_at lets the sweeper wait).
    common = {"event": event, "merchant_id": event.merchant_id, "is_live": event.is_live, "enqueued_at": timezone.now()}
    rows = []
    if event.ipn_url:
        rows.append(Delivery(kind=Kind.IPN, target_key="ipn", target=event.ipn_url, **common))
    endpoints = WebhookEndpoint.objects.filter(merchant_id=event.merchant_id, is_live=event.is_live, is_enabled=True)
    for endpoint in endpoints:
        if endpoint.subscribes_to(event.type):
            rows.append(
                Delivery(
                    kind=Kind.WEBHOOK,
                    endpoint=endpoint,
                    target_key=f"webhook:{endpoint.pk}",
                    target=endpoint.url,
                    **common,
                )
            )
    topic = EMAIL_TOPIC_EVENTS.get(event.type)
    if topic:
        subscriptions = EmailSubscription.objects.filter(
            merchant_id=event.merchant_id,
            is_live=event.is_live,
            user__is_active=True,
            user__memberships__merchant_id=event.merchant_id,
        ).select_related("user")
        for subscription in subscriptions:
            if topic in subscription.topics:
                rows.append(
                    Delivery(
                        kind=Kind.EMAIL,
                        recipient=subscription.user,
                        target_key=f"email:{subscription.user_id}",
                        target=subscription.user.email,
                        **common,
                    )
                )
    return rows


def create_deliveries(event: Event) -> list[int]:
    """Create the event's deliveries once (unique per target); returns the ids of those due now."""
    if event.dispatched_at is None:
        # Targets are chosen when the event is first dispatched: an endpoint added later does not
        # receive older events when a dispatch is repeated.
        with transaction.atomic():
            Delivery.objects.bulk_create(_targets(event), ignore_conflicts=True)
            Event.objects.filter(pk=event.pk, dispatched_at__isnull=True).update(dispatched_at=timezone.now())
    return list(
        Delivery.objects.filter(event=event, status=Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def enqueue_deliveries(delivery_ids: Iterable[int], *, mark: bool = True) -> int:
    """Queue one `deliver` task per delivery; stops at the first broker error (the sweeper retries).
    `mark` records the time on the deliveries (dispatch created them with it already)."""
    queued = []
    for delivery_id in delivery_ids:
        if not enqueue("notifications.deliver", [delivery_id]):
            break  # broker down (enqueue logged it): the sweeper queues due deliveries later
        queued.append(delivery_id)
    if queued and mark and not is_eager():
        Delivery.objects.filter(pk__in=queued).update(enqueued_at=timezone.now())
    return len(queued)


# --- one attempt -----------------------------------------------------------------------------------


def retry_delay(failed_attempts: int) -> timedelta:
    """The wait after the n-th failed attempt, with jitter."""
    base = RETRY_SCHEDULE[min(failed_attempts, len(RETRY_SCHEDULE)) - 1]
    return base * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311  jitter, not a secret


def _json(data) -> bytes:
    # As the API renders it (DRF: compact, UTF-8).
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def ipn_body(event: Event) -> bytes:
    """IPN body (spec §12): the resource exactly as recorded with the change."""
    return _json(event.payload)


def webhook_body(event: Event) -> bytes:
    """Webhook body (spec §15): the event envelope around the resource."""
    return _json(
        {
            "id": event.public_id,
            "object": "event",
            "type": event.type,
            "created_at": int(event.created_at.timestamp()),
            "is_live": event.is_live,
            "data": event.payload,
        }
    )


def signed_headers(secrets: list[str], body: bytes, event: Event, attempt: int, now=None) -> dict[str, str]:
    timestamp = int((now or timezone.now()).timestamp())
    return {
        "Content-Type": "application/json",
        "X-Signature": signing.signature_header(secrets, timestamp, body),
        "X-Event-Id": event.public_id,
        "X-Delivery-Attempt": str(attempt),
    }


def claim(delivery_id: int, token: str, lease: timedelta = HTTP_LEASE) -> bool:
    """Compare-and-set: take the due delivery for one attempt. False when it is not due, already
    succeeded or failed, or held by a live attempt. The same token (the Celery task id of a
    message redelivered after its worker died) takes its own lease back."""
    now = timezone.now()
    free = Q(locked_until__isnull=True) | Q(locked_until__lt=now) | Q(claimed_by=token)
    lease_end = Case(When(kind=Kind.EMAIL, then=Value(now + EMAIL_LEASE)), default=Value(now + lease))
    return (
        Delivery.objects.filter(Q(pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now) & free).update(
            attempts=F("attempts") + 1, locked_until=lease_end, claimed_by=token, updated_at=now
        )
        == 1
    )


def deliver(delivery_id: int, token: str = "") -> DeliveryAttempt | None:
    """Make one attempt of a due delivery; returns the recorded attempt, or None when there was
    nothing to do (not due, done, or another worker is on it). Idempotent per task."""
    token = token or random_base62(24)
    if not claim(delivery_id, token):
        return None
    delivery = Delivery.objects.select_related("event", "endpoint", "recipient").get(pk=delivery_id)
    number = delivery.attempts
    if number > 1:
        _record_interrupted_attempts(delivery, number)
    started_at = timezone.now()
    if delivery.kind == Kind.EMAIL:
        outcome = send_event_email(delivery)
    elif delivery.kind == Kind.WEBHOOK and not delivery.endpoint.is_enabled:
        outcome = transport.Response(0, error="endpoint disabled", permanent=True)
    else:
        outcome = _post(delivery, number)
    attempt = _finish(delivery, number, token, started_at, outcome)
    _after_attempt(delivery, outcome)
    return attempt


def _post(delivery: Delivery, number: int) -> transport.Response:
    event = delivery.event
    if delivery.kind == Kind.IPN:
        body = ipn_body(event)
        secrets = signing.valid_secrets(ipn_secret(delivery.merchant_id, delivery.is_live))
        url = delivery.target
    else:
        body = webhook_body(event)
        secrets = signing.valid_secrets(delivery.endpoint)
        url = delivery.endpoint.url
    return transport.post(
        url,
        body,
        signed_headers(secrets, body, event, number),
        is_live=delivery.is_live,
        allow_private_networks=settings.NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS,
    )


def _record_interrupted_attempts(delivery: Delivery, number: int) -> None:
    """An attempt number taken by a worker that died before recording it shows as interrupted."""
    recorded = set(delivery.attempt_log.filter(number__lt=number).values_list("number", flat=True))
    for missing in sorted(set(range(1, number)) - recorded):
        DeliveryAttempt.objects.get_or_create(
            delivery=delivery,
            number=missing,
            defaults={"started_at": delivery.updated_at, "error": "interrupted: no result recorded (worker stopped)"},
        )


def _finish(delivery, number, token, started_at, outcome: transport.Response) -> DeliveryAttempt:
    now = timezone.now()
    fields = {"locked_until": None, "claimed_by": "", "updated_at": now}
    if delivery.kind != Kind.EMAIL:
        fields["last_status_code"] = outcome.status_code
    if outcome.ok:
        fields.update(status=Status.SUCCEEDED, next_attempt_at=None, completed_at=now)
    elif outcome.permanent or number >= delivery.max_attempts:
        fields.update(status=Status.FAILED, next_attempt_at=None, completed_at=now)
    else:
        # No task is queued for the next attempt yet: the countdown below or the sweeper queues it.
        fields.update(status=Status.PENDING, next_attempt_at=now + retry_delay(number), enqueued_at=None)
    attempt = DeliveryAttempt(
        delivery=delivery,
        number=number,
        started_at=started_at,
        status_code=outcome.status_code,
        succeeded=outcome.ok,
        latency_ms=outcome.latency_ms,
        response_body=outcome.body_start,
        error=outcome.error[:500],
    )
    # The update is guarded by the claim: if our lease ran out and another worker took over, its
    # result wins (and it may already have recorded this attempt number as interrupted).
    try:
        with transaction.atomic():
            attempt.save()
            Delivery.objects.filter(pk=delivery.pk, claimed_by=token).update(**fields)
    except IntegrityError:
        attempt = DeliveryAttempt.objects.get(delivery=delivery, number=number)
        Delivery.objects.filter(pk=delivery.pk, claimed_by=token).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)
    return attempt


def _after_attempt(delivery: Delivery, outcome: transport.Response) -> None:
    if not outcome.ok:
        DELIVERY_FAILURES.labels(kind=delivery.kind).inc()
    if delivery.kind == Kind.IPN:
        payment_id = _payment_of(delivery.event)
        if payment_id:
            for callback in registry.ipn_result_callbacks():
                callback(payment_id, outcome.status_code)
    elif delivery.kind == Kind.WEBHOOK and delivery.endpoint.is_enabled:
        track_endpoint_health(delivery.endpoint, outcome.ok)
    if delivery.status == Status.PENDING and not is_eager():
        delay = delivery.next_attempt_at - timezone.now()
        # Broker down: enqueue logs it and the sweeper queues the retry when due.
        if delay <= COUNTDOWN_LIMIT and enqueue(
            "notifications.deliver", [delivery.pk], countdown=max(0.0, delay.total_seconds())
        ):
            Delivery.objects.filter(pk=delivery.pk).update(enqueued_at=timezone.now())


def _payment_of(event: Event) -> str | None:
    """The payment whose `notification.response_code` an IPN of this event updates."""
    if event.object_type == "payment":
        return event.object_id
    if event.object_type == "refund":
        return (event.payload or {}).get("payment_id")
    if event.object_type == "installment_plan":  # the plan's own `notification.response_code`
        return event.object_id
    return None


# --- what the delivery log says -------------------------------------------------------------------

# An attempt's `error` keeps the technical detail for operators (admin, logs); the dashboard says
# what happened in the merchant's words, by the kind of error, first match wins.
ERROR_KINDS: list[tuple[str, tuple[str, ...]]] = [
    ("interrupted", ("interrupted:",)),
    ("endpoint_disabled", ("endpoint disabled",)),
    ("nothing_to_send", ("nothing to send",)),
    ("email", ("email not sent",)),
    ("dns", ("name resolution", "nameresolutionerror", "name or service not known", "nodename nor servname",
             "getaddrinfo", "no address", "temporary failure in name resolution")),
    ("blocked_address", ("private address", "loopback address", "link-local", "metadata address",
                         "reserved address", "non-public address", "multicast")),
    ("invalid_url", ("https is required", "invalid url", "only http and https", "credentials in the url",
                     "has no host")),
    ("timeout", ("timeout", "timed out")),
    ("tls", ("sslerror", "ssl:", "certificate", "tlsv1", "wrong version number")),
    ("connection_refused", ("connection refused", "errno 111", "connectionrefusederror", "winerror 10061")),
    ("connection_closed", ("connection aborted", "connection reset", "remotedisconnected", "remote end closed",
                           "broken pipe", "errno 104")),
    ("unreachable", ("network is unreachable", "no route to host", "errno 101", "errno 113")),
]  # fmt: skip


def error_kind(error: str) -> str:
    """The kind of a recorded attempt error ("timeout", "tls", ...), "other" when unknown."""
    lowered = (error or "").lower()
    for kind, needles in ERROR_KINDS:
        if any(needle in lowered for needle in needles):
            return kind
    return "other"


def _error_messages() -> dict[str, str]:
    return {
        "interrupted": _("The attempt was interrupted before it finished (our worker stopped). It is tried again."),
        "endpoint_disabled": _("The endpoint is disabled: nothing was sent. Enable it to receive events again."),
        "nothing_to_send": _("There was nothing to send for this event."),
        "email": _("The email could not be sent: our mail server did not accept it. It is tried again."),
        "dns": _("The server name could not be found (DNS). Check the spelling of the address."),
        "blocked_address": _(
            "The address points to a private or reserved network, where we never send notifications. "
            "Use a public address."
        ),
        "invalid_url": _("The address cannot receive notifications: use a full https:// address."),
        "timeout": _("Your server did not answer in time (10 seconds). Answer quickly, then do the work."),
        "tls": _("The secure connection failed: check your server's TLS (HTTPS) certificate."),
        "connection_refused": _("Your server refused the connection: nothing is listening at this address and port."),
        "connection_closed": _("Your server closed the connection without answering."),
        "unreachable": _("Your server could not be reached from our network."),
        "other": _("The notification could not be delivered."),
    }


def _http_message(status: int) -> str:
    if 300 <= status < 400:
        return _(
            "Your server answered with a redirect (HTTP %(status)s). Redirects are not followed: use the final address."
        ) % {"status": status}
    if status in (401, 403):
        return _("Your server refused the request (HTTP %(status)s). Check that it accepts our notifications.") % {
            "status": status
        }
    if status == 404:
        return _("The address was not found on your server (HTTP 404).")
    if 400 <= status < 500:
        return _("Your server rejected the notification (HTTP %(status)s).") % {"status": status}
    return _("Your server had an error (HTTP %(status)s).") % {"status": status}


def attempt_message(attempt: DeliveryAttempt) -> str:
    """What went wrong with one attempt, in the merchant's words ("" for a success)."""
    if attempt.succeeded or 200 <= (attempt.status_code or 0) < 300:
        return ""
    if attempt.error:
        return _error_messages()[error_kind(attempt.error)]
    if attempt.status_code:
        return _http_message(attempt.status_code)
    return _error_messages()["other"]


# --- the dashboard's "resend" ----------------------------------------------------------------------


def resend(delivery: Delivery) -> bool:
    """Dashboard "resend": one more attempt now, whatever the delivery's state (a pending
    delivery keeps its remaining automatic attempts). False while an attempt is in progress."""
    now = timezone.now()
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)  # one table: MariaDB locks
        if locked.locked_until and locked.locked_until > now:
            return False
        if (
            locked.kind == Kind.WEBHOOK
            and not WebhookEndpoint.objects.filter(pk=locked.endpoint_id, is_enabled=True).exists()
        ):
            return False
        locked.max_attempts = (locked.max_attempts + 1) if locked.status == Status.PENDING else locked.attempts + 1
        locked.status = Status.PENDING
        locked.next_attempt_at = now
        locked.completed_at = None
        locked.save(update_fields=["status", "max_attempts", "next_attempt_at", "completed_at", "updated_at"])
    transaction.on_commit(lambda: enqueue_deliveries([delivery.pk]))
    return True
