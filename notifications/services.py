"""Publishing events and delivering them: the outbox, the fan-out, IPN, webhooks and emails.

Life of an event:
1. `publish()` records it inside the transaction that makes the change; after the commit,
   `dispatch_event` is queued (if the broker is down, the sweeper queues it later).
2. `dispatch()` notifies the internal subscribers and creates, once, one Delivery per target:
   the IPN (`event.ipn_url`), every enabled webhook endpoint of the merchant and mode subscribed
   to the type, every team member subscribed to the matching email. Then it queues `deliver`
   for each.
3. `deliver()` claims the delivery (compare-and-set: one attempt at a time, never after a
   success), makes one attempt, records it, and schedules the next one on failure (RETRY_SCHEDULE,
   with jitter) until the delivery succeeds or fails for good.
4. `sweep()` (beat) re-queues events never dispatched and deliveries that are due but whose task
   was lost: delivery is at least once, whatever happens to the broker or a worker.
"""

from __future__ import annotations

import json
import logging
import random
import smtplib
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Max, Q, Value, When
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from merchants.models import Membership
from notifications import registry, signing, transport
from notifications.models import (
    EMAIL_TOPIC_EVENTS,
    Delivery,
    DeliveryAttempt,
    EmailSubscription,
    Event,
    IpnSecret,
    WebhookEndpoint,
)
from payplug.ids import random_base62
from payplug.metrics import DELIVERY_FAILURES

logger = logging.getLogger(__name__)

Kind = Delivery.Kind
Status = Delivery.Status
Topic = EmailSubscription.Topic

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
# An endpoint whose attempts have all failed for this long is disabled and its admins told.
DISABLE_AFTER = timedelta(days=3)

ADMIN_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)


def _eager() -> bool:
    from celery import current_app

    return bool(current_app.conf.task_always_eager)


# --- publishing ------------------------------------------------------------------------------------


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
    from notifications.tasks import dispatch_event

    try:
        dispatch_event.delay(event_id)
    except Exception:  # broker down: the sweeper re-enqueues undispatched events
        logger.warning("could not enqueue event %s; the sweeper will retry", event_id, exc_info=True)


# --- fan-out ---------------------------------------------------------------------------------------


def dispatch(event_id: int) -> list[str]:
    """Fan an event out: internal subscribers, then its deliveries, created once. Returns the
    internal task names notified. Safe to run again for the same event (redelivered task, sweeper)."""
    from celery import current_app

    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return []
    notified = []
    # Subscribers first: if the broker refuses them, the event stays undispatched for the sweeper.
    for task_name in registry.subscribers(event.type):
        if current_app.conf.task_always_eager:
            # send_task() ignores eager mode: run the subscriber in-process like any eager task.
            current_app.tasks[task_name].apply(args=[event.pk])
        else:
            current_app.send_task(task_name, args=[event.pk])
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
    from notifications.tasks import deliver_task

    queued = []
    for delivery_id in delivery_ids:
        try:
            deliver_task.delay(delivery_id)
        except Exception:  # broker down: the sweeper queues due deliveries later
            logger.warning("could not enqueue delivery %s; the sweeper will retry", delivery_id, exc_info=True)
            break
        queued.append(delivery_id)
    if queued and mark and not _eager():
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


def ipn_secret(merchant_id: int, is_live: bool) -> IpnSecret:
    """The merchant's IPN secret for the mode, created on first use."""
    secret = IpnSecret.objects.filter(merchant_id=merchant_id, is_live=is_live).first()
    if secret is not None:
        return secret
    secret = IpnSecret(merchant_id=merchant_id, is_live=is_live)
    signing.set_secret(secret, signing.new_secret(), keep_previous=False)
    try:
        with transaction.atomic():
            secret.save()
    except IntegrityError:  # created concurrently by another worker
        return IpnSecret.objects.get(merchant_id=merchant_id, is_live=is_live)
    return secret


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
        outcome = _send_event_email(delivery)
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
        _track_endpoint_health(delivery.endpoint, outcome.ok)
    if delivery.status == Status.PENDING and not _eager():
        delay = delivery.next_attempt_at - timezone.now()
        if delay <= COUNTDOWN_LIMIT:
            from notifications.tasks import deliver_task

            try:
                deliver_task.apply_async(args=[delivery.pk], countdown=max(0.0, delay.total_seconds()))
            except Exception:  # broker down: the sweeper queues it when due
                logger.warning("could not schedule the retry of delivery %s", delivery.pk, exc_info=True)
            else:
                Delivery.objects.filter(pk=delivery.pk).update(enqueued_at=timezone.now())


def _payment_of(event: Event) -> str | None:
    """The payment whose `notification.response_code` an IPN of this event updates."""
    if event.object_type == "payment":
        return event.object_id
    if event.object_type == "refund":
        return (event.payload or {}).get("payment_id")
    return None


# --- webhook endpoints -----------------------------------------------------------------------------


def _track_endpoint_health(endpoint: WebhookEndpoint, succeeded: bool) -> None:
    now = timezone.now()
    if succeeded:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
        return
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    disabled = WebhookEndpoint.objects.filter(
        pk=endpoint.pk, is_enabled=True, failing_since__lte=now - DISABLE_AFTER
    ).update(is_enabled=False, disabled_at=now, disabled_reason=WebhookEndpoint.DisabledReason.FAILING)
    if disabled:
        endpoint.refresh_from_db()
        logger.warning(
            "webhook endpoint %s disabled after failing since %s", endpoint.public_id, endpoint.failing_since
        )
        _email_endpoint_disabled(endpoint)


def create_endpoint(
    merchant, is_live: bool, *, url: str, event_types: list[str], description: str = "", created_by=None
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret, returned in clear this once."""
    endpoint = WebhookEndpoint(
        merchant=merchant,
        is_live=is_live,
        url=url,
        event_types=sorted(set(event_types)),
        description=description,
        created_by=created_by,
    )
    secret = signing.new_secret()
    signing.set_secret(endpoint, secret, keep_previous=False)
    endpoint.save()
    return endpoint, secret


def update_endpoint(endpoint: WebhookEndpoint, *, event_types: list[str], description: str) -> WebhookEndpoint:
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.event_types = sorted(set(event_types))
        locked.description = description
        locked.save(update_fields=["event_types", "description"])
    return locked


def rotate_endpoint_secret(endpoint: WebhookEndpoint) -> str:
    """A new secret; the old one keeps signing (second v1) for 24 h. Returns the new one in clear."""
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        secret = signing.new_secret()
        signing.set_secret(locked, secret, keep_previous=True)
        locked.save()
    return secret


def rotate_ipn_secret(merchant, is_live: bool) -> str:
    with transaction.atomic():
        ipn_secret(merchant.pk, is_live)
        locked = IpnSecret.objects.select_for_update().get(merchant=merchant, is_live=is_live)
        secret = signing.new_secret()
        signing.set_secret(locked, secret, keep_previous=True)
        locked.save()
    return secret


def disable_endpoint(endpoint: WebhookEndpoint) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk, is_enabled=True).update(
        is_enabled=False, disabled_at=timezone.now(), disabled_reason=WebhookEndpoint.DisabledReason.BY_USER
    )


def enable_endpoint(endpoint: WebhookEndpoint) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk, is_enabled=False).update(
        is_enabled=True, disabled_at=None, disabled_reason="", failing_since=None
    )


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


# --- the sweeper -----------------------------------------------------------------------------------


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
    from notifications.tasks import dispatch_event

    events = 0
    for event_id in event_ids:
        try:
            dispatch_event.delay(event_id)
        except Exception:
            logger.warning("sweeper: broker unavailable, will retry", exc_info=True)
            break
        Event.objects.filter(pk=event_id).update(swept_at=now)
        events += 1
    delivery_ids = list(
        Delivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=cutoff)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=stale))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    deliveries = enqueue_deliveries(delivery_ids)
    if events or deliveries:
        logger.info("sweeper re-queued %s event(s) and %s delivery(ies)", events, deliveries)
    return {"events": events, "deliveries": deliveries}


# --- emails ----------------------------------------------------------------------------------------


def _link(name: str, *args) -> str:
    try:
        return settings.PUBLIC_BASE_URL + reverse(name, args=args)
    except NoReverseMatch:
        return settings.PUBLIC_BASE_URL + "/dashboard/"


def _send(template: str, context: dict, to: list[str], language: str = "") -> None:
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
        text = render_to_string(f"emails/{template}_body.txt", context)
        html = render_to_string(f"emails/{template}_body.html", context)
    message = EmailMultiAlternatives(subject, text, to=to)
    message.attach_alternative(html, "text/html")
    message.send()


def _send_event_email(delivery: Delivery) -> transport.Response:
    event = delivery.event
    topic = EMAIL_TOPIC_EVENTS.get(event.type)
    templates = {
        Topic.PAYMENT_RECEIVED: "notification_payment_received",
        Topic.REVIEW_NEEDED: "notification_review_needed",
        Topic.PAYOUT_SENT: "notification_payout_sent",
    }
    if topic not in templates or delivery.recipient is None:
        return transport.Response(0, error="nothing to send", permanent=True)
    payload = event.payload or {}
    link = _link("dashboard:payment", event.object_id) if event.object_type == "payment" else _link("dashboard:home")
    context = {
        "merchant": delivery.event.merchant,
        "event": event,
        "object": payload,
        "amount": _money(payload.get("amount"), payload.get("currency")),
        "is_live": event.is_live,
        "link": link,
        "settings_link": _link("dashboard:notification_settings"),
    }
    try:
        _send(templates[topic], context, [delivery.target], delivery.recipient.preferred_language)
    except (smtplib.SMTPException, OSError) as exc:
        return transport.Response(0, error=f"email not sent: {exc}"[:500])
    return transport.Response(0, succeeded=True)


def _money(cents, currency) -> str:
    if not isinstance(cents, int):
        return ""
    return f"{cents // 100},{cents % 100:02d} {currency or 'EUR'}"


def _admin_emails(merchant_id: int) -> list[tuple[str, str]]:
    memberships = Membership.objects.filter(
        merchant_id=merchant_id, role__in=ADMIN_ROLES, user__is_active=True
    ).select_related("user")
    return [(m.user.email, m.user.preferred_language) for m in memberships]


def _email_endpoint_disabled(endpoint: WebhookEndpoint) -> None:
    context = {
        "merchant": endpoint.merchant,
        "endpoint": endpoint,
        "failing_since": endpoint.failing_since,
        "is_live": endpoint.is_live,
        "link": _link("dashboard:webhook", endpoint.public_id),
    }
    for email, language in _admin_emails(endpoint.merchant_id):
        try:
            _send("webhook_disabled", context, [email], language)
        except (smtplib.SMTPException, OSError):
            logger.exception("endpoint %s disabled: the email to an admin could not be sent", endpoint.public_id)


def update_email_subscription(user, merchant, is_live: bool, topics: list[str]) -> EmailSubscription:
    wanted = sorted({topic for topic in topics if topic in Topic.values})
    subscription, _ = EmailSubscription.objects.update_or_create(
        user=user, merchant=merchant, is_live=is_live, defaults={"topics": wanted}
    )
    return subscription


def daily_summary(merchant_id: int, is_live: bool, day: date) -> dict:
    """Yesterday in numbers, read from the outbox (each event carries its resource)."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    events = Event.objects.filter(
        merchant_id=merchant_id, is_live=is_live, created_at__gte=start, created_at__lt=start + timedelta(days=1)
    ).values_list("type", "object_id", "payload")
    paid, refunds, failed, reviews = {}, {}, set(), set()
    for event_type, object_id, payload in events:
        amount = (payload or {}).get("amount") or 0
        if event_type == "payment.paid":
            paid[object_id] = amount
        elif event_type == "refund.created":
            refunds[object_id] = amount
        elif event_type == "payment.failed":
            failed.add(object_id)
        elif event_type == "payment.review_required":
            reviews.add(object_id)
    return {
        "day": day,
        "paid_count": len(paid),
        "paid_amount": _money(sum(paid.values()), "EUR"),
        "refund_count": len(refunds),
        "refund_amount": _money(sum(refunds.values()), "EUR"),
        "failed_count": len(failed - set(paid)),
        "review_count": len(reviews),
    }


def send_daily_summaries(day: date | None = None) -> int:
    """Beat task body: one summary per subscribed member, at most once per day (compare-and-set)."""
    day = day or (timezone.now() - timedelta(days=1)).date()
    sent = 0
    subscriptions = EmailSubscription.objects.filter(
        Q(last_summary_date__isnull=True) | Q(last_summary_date__lt=day), user__is_active=True
    ).select_related("user", "merchant")
    for subscription in subscriptions:
        if Topic.DAILY_SUMMARY not in subscription.topics:
            continue
        if not Membership.objects.filter(user_id=subscription.user_id, merchant_id=subscription.merchant_id).exists():
            continue
        claimed = (
            EmailSubscription.objects.filter(pk=subscription.pk)
            .filter(Q(last_summary_date__isnull=True) | Q(last_summary_date__lt=day))
            .update(last_summary_date=day)
        )
        if not claimed:
            continue
        context = {
            "merchant": subscription.merchant,
            "is_live": subscription.is_live,
            "summary": daily_summary(subscription.merchant_id, subscription.is_live, day),
            "link": _link("dashboard:home"),
            "settings_link": _link("dashboard:notification_settings"),
        }
        try:
            _send(
                "notification_daily_summary", context, [subscription.user.email], subscription.user.preferred_language
            )
        except (smtplib.SMTPException, OSError):
            logger.exception("daily summary for subscription %s not sent", subscription.pk)
            EmailSubscription.objects.filter(pk=subscription.pk, last_summary_date=day).update(
                last_summary_date=subscription.last_summary_date
            )
            continue
        sent += 1
    return sent
