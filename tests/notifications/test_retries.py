"""Retries on the schedule of spec §12, idempotent attempts, the sweeper, failing endpoints."""

from datetime import timedelta

import pytest
from django.utils import timezone

from merchants.models import Membership
from notifications.models import Delivery, Event, WebhookEndpoint
from notifications.services.delivery import (
    MAX_ATTEMPTS,
    RETRY_SCHEDULE,
    claim,
    deliver,
    enqueue_deliveries,
    resend,
    retry_delay,
)
from notifications.services.endpoints import create_endpoint
from notifications.services.sweeper import sweep
from payplug.celery import app
from payplug.metrics import DELIVERY_FAILURES
from tests import factories

from .helpers import dispatched, record_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_private")]

MINUTE = 60
HOUR = 3600
EXPECTED_SCHEDULE = [1 * MINUTE, 5 * MINUTE, 15 * MINUTE, 1 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR]


def make_due(delivery: Delivery) -> None:
    """Time passes: the next attempt is due (the sweeper only takes deliveries due for a while)."""
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=1))


def next_attempt(delivery: Delivery) -> Delivery:
    make_due(delivery)
    sweep()
    delivery.refresh_from_db()
    return delivery


def ipn_delivery(merchant, receiver) -> Delivery:
    return Delivery.objects.get(event=dispatched(record_event(merchant, ipn_url=receiver.url())))


def test_the_schedule_is_the_spec_one_and_spans_more_than_24_hours():
    assert [int(d.total_seconds()) for d in RETRY_SCHEDULE] == EXPECTED_SCHEDULE
    assert sum(EXPECTED_SCHEDULE) > 24 * HOUR
    assert MAX_ATTEMPTS == 9


@pytest.mark.parametrize(("failed_attempts", "base"), list(enumerate(EXPECTED_SCHEDULE, start=1)))
def test_each_wait_has_jitter_around_its_step(failed_attempts, base):
    waits = {retry_delay(failed_attempts).total_seconds() for _ in range(50)}
    assert all(0.9 * base <= wait <= 1.1 * base for wait in waits)
    assert len(waits) > 1


def test_a_receiver_failing_three_times_gets_the_fourth_attempt(merchant_a, receiver):
    receiver.fail(3)
    delivery = ipn_delivery(merchant_a, receiver)

    waits = []
    while delivery.status == Delivery.Status.PENDING:
        latest = delivery.attempt_log.last()
        waits.append((delivery.next_attempt_at - latest.started_at).total_seconds())
        delivery = next_attempt(delivery)

    assert delivery.status == Delivery.Status.SUCCEEDED
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 500, 500, 200]
    assert [r.header("X-Delivery-Attempt") for r in receiver.received] == ["1", "2", "3", "4"]
    assert len({r.header("X-Event-Id") for r in receiver.received}) == 1
    assert len({r.body for r in receiver.received}) == 1
    for wait, base in zip(waits, EXPECTED_SCHEDULE, strict=False):
        assert 0.9 * base - 1 <= wait <= 1.1 * base + 1


def test_the_delivery_fails_after_the_ninth_attempt(merchant_a, receiver):
    receiver.fail(100, status=503)
    failures_before = DELIVERY_FAILURES.labels(kind="ipn")._value.get()
    delivery = ipn_delivery(merchant_a, receiver)
    while delivery.status == Delivery.Status.PENDING:
        delivery = next_attempt(delivery)

    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == 9
    assert delivery.next_attempt_at is None and delivery.completed_at is not None
    assert len(receiver.received) == 9
    assert DELIVERY_FAILURES.labels(kind="ipn")._value.get() - failures_before == 9
    # nothing more happens by itself
    make_due(delivery)
    sweep()
    assert len(receiver.received) == 9


def test_a_4xx_is_retried_too_but_a_2xx_stops_everything(merchant_a, receiver):
    receiver.answer(404).answer(201)
    delivery = ipn_delivery(merchant_a, receiver)
    delivery = next_attempt(delivery)
    assert delivery.status == Delivery.Status.SUCCEEDED
    next_attempt(delivery)
    assert len(receiver.received) == 2


def test_a_redelivered_task_does_not_resend_a_succeeded_delivery(merchant_a, receiver):
    delivery = ipn_delivery(merchant_a, receiver)
    assert deliver(delivery.pk, token="the-same-task-again") is None
    assert deliver(delivery.pk) is None
    assert len(receiver.received) == 1


def test_an_attempt_is_not_made_before_it_is_due(merchant_a, receiver):
    receiver.fail(1)
    delivery = ipn_delivery(merchant_a, receiver)
    assert deliver(delivery.pk) is None
    assert len(receiver.received) == 1


def test_only_one_worker_holds_a_delivery_and_a_redelivered_message_takes_its_claim_back(merchant_a, receiver):
    receiver.fail(1)
    delivery = ipn_delivery(merchant_a, receiver)
    make_due(delivery)
    # a worker claims it, then dies before recording anything
    assert claim(delivery.pk, "task-a")

    assert deliver(delivery.pk, token="task-b") is None  # another task: the lease holds
    attempt = deliver(delivery.pk, token="task-a")  # the dead worker's message, redelivered

    delivery.refresh_from_db()
    assert attempt.number == 3 and attempt.succeeded
    assert delivery.status == Delivery.Status.SUCCEEDED
    log = list(delivery.attempt_log.all())
    assert [a.number for a in log] == [1, 2, 3]
    assert log[1].error.startswith("interrupted")
    assert [r.header("X-Delivery-Attempt") for r in receiver.received] == ["1", "3"]


def test_an_expired_lease_frees_the_delivery_for_the_sweeper(merchant_a, receiver):
    receiver.fail(1)
    delivery = ipn_delivery(merchant_a, receiver)
    make_due(delivery)
    assert claim(delivery.pk, "dead-worker")
    sweep()
    assert len(receiver.received) == 1  # still held

    Delivery.objects.filter(pk=delivery.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    sweep()

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED
    assert len(receiver.received) == 2


def test_the_sweeper_dispatches_events_the_broker_never_got(merchant_a, receiver):
    # given: committed events whose dispatch task never ran (broker down at commit time)
    lost = Event.objects.create(
        merchant=merchant_a,
        is_live=False,
        type="payment.paid",
        object_type="payment",
        object_id="pay_lost",
        sequence=1,
        payload={"id": "pay_lost", "object": "payment"},
        ipn_url=receiver.url(),
        created_at=timezone.now() - timedelta(minutes=2),
    )
    fresh = Event.objects.create(
        merchant=merchant_a,
        is_live=False,
        type="payment.paid",
        object_type="payment",
        object_id="pay_fresh",
        sequence=1,
        payload={"id": "pay_fresh", "object": "payment"},
        ipn_url=receiver.url(),
    )

    assert sweep()["events"] == 1

    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.dispatched_at is not None
    assert fresh.dispatched_at is None  # its own dispatch task may still be on its way
    assert [r.body for r in receiver.received] == [b'{"id":"pay_lost","object":"payment"}']


def test_the_sweeper_does_not_queue_a_backlog_again_every_time(merchant_a, receiver):
    receiver.fail(1)
    delivery = ipn_delivery(merchant_a, receiver)
    make_due(delivery)
    Delivery.objects.filter(pk=delivery.pk).update(enqueued_at=timezone.now())  # a task is queued for it

    assert sweep()["deliveries"] == 0

    Delivery.objects.filter(pk=delivery.pk).update(enqueued_at=timezone.now() - timedelta(minutes=10))
    assert sweep()["deliveries"] == 1
    assert len(receiver.received) == 2


def test_queueing_stops_at_the_first_delivery_the_broker_refuses_and_marks_only_those_queued(
    merchant_a, receiver, monkeypatch
):
    ids = [ipn_delivery(merchant_a, receiver).pk for _ in range(3)]
    Delivery.objects.filter(pk__in=ids).update(enqueued_at=None)
    answers, queued = [True, False, True], []

    def broker(task_name, args=(), **options):  # the second one is refused: the broker went down
        queued.append((task_name, list(args)))
        return answers[len(queued) - 1]

    monkeypatch.setattr("notifications.services.delivery.enqueue", broker)
    app.conf.task_always_eager = False  # a real broker: what was queued is marked
    try:
        assert enqueue_deliveries(ids) == 1
    finally:
        app.conf.task_always_eager = True
    assert queued == [("notifications.deliver", [ids[0]]), ("notifications.deliver", [ids[1]])]
    marked = dict(Delivery.objects.filter(pk__in=ids).values_list("pk", "enqueued_at"))
    assert marked[ids[0]] is not None and marked[ids[1]] is None and marked[ids[2]] is None


def test_an_endpoint_failing_for_three_days_is_disabled_and_its_admins_emailed(merchant_a, alice, receiver, mailoutbox):
    admin = factories.member(merchant_a, "admin@example.org", Membership.Role.ADMIN)
    factories.member(merchant_a, "support@example.org", Membership.Role.SUPPORT)
    receiver.fail(100)
    endpoint, _ = create_endpoint(merchant_a, False, url=receiver.url("/hook"), event_types=["payment.paid"])
    dispatched(record_event(merchant_a))
    endpoint.refresh_from_db()
    assert endpoint.is_enabled and endpoint.failing_since is not None
    assert mailoutbox == []

    # three days of failures later
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(days=3, minutes=1))
    pending = Delivery.objects.get(endpoint=endpoint)
    next_attempt(pending)

    endpoint.refresh_from_db()
    assert not endpoint.is_enabled
    assert endpoint.disabled_reason == WebhookEndpoint.DisabledReason.FAILING
    assert sorted(m.to[0] for m in mailoutbox) == sorted([alice.email, admin.email])
    assert endpoint.url in mailoutbox[0].body
    # what was still pending for it stops, without a request
    sent = len(receiver.received)
    pending = next_attempt(pending)
    assert pending.status == Delivery.Status.FAILED
    assert len(receiver.received) == sent
    # and new events no longer go to it
    event = dispatched(record_event(merchant_a))
    assert not Delivery.objects.filter(event=event).exists()


def test_a_success_ends_the_failure_streak(merchant_a, receiver):
    receiver.fail(1)
    endpoint, _ = create_endpoint(merchant_a, False, url=receiver.url("/hook"), event_types=["payment.paid"])
    delivery = Delivery.objects.get(event=dispatched(record_event(merchant_a)))
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None

    next_attempt(delivery)

    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.is_enabled


def test_resend_makes_one_more_attempt_of_a_failed_delivery(merchant_a, receiver, django_capture_on_commit_callbacks):
    receiver.fail(9)
    delivery = ipn_delivery(merchant_a, receiver)
    while delivery.status == Delivery.Status.PENDING:
        delivery = next_attempt(delivery)
    assert delivery.status == Delivery.Status.FAILED

    with django_capture_on_commit_callbacks(execute=True):
        assert resend(delivery)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED
    assert receiver.received[-1].header("X-Delivery-Attempt") == "10"


def test_resend_of_a_failing_delivery_fails_again_after_one_attempt(
    merchant_a, receiver, django_capture_on_commit_callbacks
):
    receiver.fail(100)
    delivery = ipn_delivery(merchant_a, receiver)
    while delivery.status == Delivery.Status.PENDING:
        delivery = next_attempt(delivery)

    with django_capture_on_commit_callbacks(execute=True):
        resend(delivery)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == 10
