"""With `make run`'s scheduler ticking, the README's sandbox table is true (issue 12, item 22).

Ticks are driven by hand with a fake clock; "time passes" for the database by moving the rows'
timestamps back (what 30 seconds or 5 minutes of waiting would do), never by sleeping.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Delivery, WebhookEndpoint
from notifications.services.endpoints import create_endpoint
from payments.models import Dispute, Payment, PaymentAttempt, ScheduledChargeback
from payplug.celery import app
from payplug.scheduler import Scheduler
from tests.payments.helpers import create_payment, pay

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit hooks: outbox dispatch, fraud decision


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture(autouse=True)
def _embedded_mode():
    """`make run`: no broker, tasks in-process."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def scheduler():
    clock = FakeClock()
    return Scheduler(clock=clock), clock  # the real CELERY_BEAT_SCHEDULE and the registered tasks


def test_the_acquirer_timeout_card_is_resolved_by_the_reconcile_job(api):
    created = create_payment(api)
    pay(created, number="4000 0000 0000 0077")
    payment = Payment.objects.get(public_id=created["id"])
    assert payment.status == Payment.Status.PENDING
    attempt = payment.attempts.get()
    assert attempt.status == PaymentAttempt.Status.UNKNOWN

    sched, clock = scheduler()
    assert "reconcile-pending-authorizations" in sched.tick()  # at start: the answer is not 30 s late yet
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING

    # 30 seconds pass: the answer is now overdue, and the job's next run comes.
    PaymentAttempt.objects.filter(pk=attempt.pk).update(updated_at=timezone.now() - timedelta(seconds=31))
    clock.now += 30
    assert "reconcile-pending-authorizations" in sched.tick()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PAID
    assert api.get(f"/v1/payments/{created['id']}").json()["is_paid"] is True


def test_the_dispute_card_gets_its_chargeback_from_the_scheduler(api):
    created = create_payment(api)
    pay(created, number="4000 0000 0000 0259")
    payment = Payment.objects.get(public_id=created["id"])
    assert payment.status == Payment.Status.PAID
    scheduled = ScheduledChargeback.objects.get(payment=payment)  # due 5 minutes after the capture

    sched, clock = scheduler()
    sched.tick()
    assert not Dispute.objects.filter(payment=payment).exists()
    ScheduledChargeback.objects.filter(pk=scheduled.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    clock.now += 30
    assert "payments-open-due-chargebacks" in sched.tick()
    assert Dispute.objects.get(payment=payment).status == Dispute.Status.NEEDS_RESPONSE


def test_a_failing_webhook_is_retried_by_the_sweeper(settings, live_server, merchant_a, api):
    """The sandbox receiver's failing URL answers 503; the sweeper retries the delivery when due."""
    port = int(live_server.url.rsplit(":", 1)[1])
    settings.DEBUG = True  # the sandbox receiver exists under make run only
    settings.NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS = True
    settings.NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS = [port]
    endpoint, _secret = create_endpoint(
        merchant_a, False, url=f"http://127.0.0.1:{port}/sandbox/webhooks/failing/", event_types=["payment.failed"]
    )
    pay(create_payment(api), number="4000 0000 0000 0002")  # declined: payment.failed
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 1
    assert delivery.last_status_code == 503

    sched, clock = scheduler()
    sched.tick()  # not due yet: the first retry waits about a minute
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    clock.now += 15
    assert "notifications-sweep" in sched.tick()
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert list(delivery.attempt_log.order_by("number").values_list("status_code", flat=True)) == [503, 503]
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).is_enabled
