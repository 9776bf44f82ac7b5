"""Decisions through a real Celery worker and Redis broker (db 12), with the Redis feature store.

The worker runs in a thread of the test process (celery.contrib.testing), so it shares the test
database; tasks travel through Redis exactly as in production: payment.authorized is published
by the outbox after the commit, dispatched to fraud.score_payment, which decides once.
"""

import time
import uuid

import pytest
import redis
from celery.contrib.testing.worker import start_worker

from fraud import features
from fraud.models import Decision
from payments.models import Payment
from payplug.celery import app
from tests.fraud.redis_url import fraud_redis_url
from tests.payments.helpers import create_payment, pay

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_worker(transactional_db, settings):
    url = fraud_redis_url()
    client = redis.Redis.from_url(url)
    prefix = f"fs-test-{uuid.uuid4().hex[:12]}"  # tests run in parallel on the same database: no FLUSHDB
    features.set_default_store(features.RedisFeatureStore(client, prefix=prefix))
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield client, prefix
    finally:
        app.conf.task_always_eager = eager
        for key in client.scan_iter(f"{prefix}:*", count=1000):
            client.delete(key)


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_the_worker_decides_through_redis(redis_worker, api):
    payment = create_payment(api)
    pay(payment)
    fraud = create_payment(api)
    pay(fraud, number="4100 0000 0000 0019")

    assert wait_for(lambda: Payment.objects.get(public_id=payment["id"]).status == Payment.Status.PAID)
    assert wait_for(lambda: Payment.objects.get(public_id=fraud["id"]).status == Payment.Status.FAILED)
    assert Payment.objects.get(public_id=fraud["id"]).failure_code == "fraud_suspected"
    assert Decision.objects.count() == 2
    # the decided payments reached the Redis feature store
    client, prefix = redis_worker
    assert any(key.startswith(f"{prefix}:card:".encode()) for key in client.scan_iter(f"{prefix}:*"))
