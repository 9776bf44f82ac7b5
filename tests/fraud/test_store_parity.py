"""The two feature stores give the same features (Redis db 12 only; deselected without REDIS_URL)."""

import random
import uuid

import pytest
import redis

from fraud.features import (
    DAY,
    FEATURE_INDEX,
    FEATURE_NAMES,
    FeaturePipeline,
    MemoryFeatureStore,
    RedisFeatureStore,
    Transaction,
)
from tests.fraud.redis_url import fraud_redis_url

pytestmark = pytest.mark.redis
T0 = 1_780_000_000.0


@pytest.fixture
def redis_store():
    url = fraud_redis_url()
    client = redis.Redis.from_url(url)
    prefix = f"parity-{uuid.uuid4().hex[:12]}"  # tests run in parallel on the same database: no FLUSHDB
    yield RedisFeatureStore(client, prefix=prefix)
    for key in client.scan_iter(f"{prefix}:*", count=1000):
        client.delete(key)


class Flushed(Exception):
    """Another test process flushed the database meanwhile (Django's cache.clear() is a FLUSHDB)."""


def compare_stores(redis_store, seed):
    rng = random.Random(seed)
    memory = FeaturePipeline(MemoryFeatureStore())
    remote = FeaturePipeline(redis_store)
    sentinel = f"{redis_store.prefix}:sentinel"
    redis_store.client.set(sentinel, "1")
    t = T0
    seen = []
    exercised = set()
    for i in range(1500):
        t += rng.expovariate(1 / 2400)  # about 36 payments a day over ~40 days
        tx = Transaction(
            id=f"tx{i}",
            time=t,
            amount=rng.randint(100, 30000),
            merchant=f"m{rng.randint(1, 4)}",
            card=f"c{rng.randint(1, 40)}",
            email=f"e{rng.randint(1, 30)}@example.org" if rng.random() < 0.9 else None,
            ip=f"198.51.100.{rng.randint(1, 50)}" if rng.random() < 0.8 else None,
            device=f"d{rng.randint(1, 30)}" if rng.random() < 0.5 else None,
            card_country="FR",
            ip_country=rng.choice(["FR", "FR", "BE", None]),
            billing_country="FR",
        )
        a, b = memory.features(tx), remote.features(tx)
        for name in ("merchant_mature_fraud_rate_7d", "card_mature_fraud_rate_7d", "merchant_fraud_amount_ratio_30d"):
            value = a[FEATURE_INDEX[name]]
            if value == value and value > 0:
                exercised.add(name)
        for name, x, y in zip(FEATURE_NAMES, a, b, strict=True):
            if x != pytest.approx(y, rel=1e-9, abs=1e-9, nan_ok=True):
                if not redis_store.client.exists(sentinel):
                    raise Flushed
                raise AssertionError(f"payment {i}: {name} is {x} in memory, {y} in Redis")
        memory.observe(tx)
        remote.observe(tx)
        seen.append(tx)
        if rng.random() < 0.03:
            memory.decline(tx)
            remote.decline(tx)
        if rng.random() < 0.05 and len(seen) > 10:
            # a fraud label on an earlier payment, known now (sometimes the same payment twice),
            # often old enough to fall in the mature windows
            old = rng.choice(seen[-200:] if rng.random() < 0.5 else seen[-600:-250] or seen)
            memory.label(old, t)
            remote.label(old, t)
    assert len(exercised) == 3, exercised  # the label-based windows were compared, not only zeros
    return t


def test_memory_and_redis_stores_give_the_same_features(redis_store):
    for _attempt in range(5):
        try:
            end = compare_stores(redis_store, seed=5)
            break
        except Flushed:
            for key in redis_store.client.scan_iter(f"{redis_store.prefix}:*", count=1000):
                redis_store.client.delete(key)
    else:
        pytest.fail("the database kept being flushed by parallel tests")
    assert end - T0 > 30 * DAY  # windows and trimming were exercised


def test_redis_keys_expire_and_stay_bounded(redis_store):
    pipeline = FeaturePipeline(redis_store)
    client = redis_store.client
    for _attempt in range(5):  # a parallel test's cache.clear() may flush the database meanwhile
        for i in range(700):
            pipeline.observe(Transaction(id=f"tx{i}", time=T0 + i, amount=100, merchant="m", card="c"))
        if client.zcard(f"{redis_store.prefix}:card:c:e") == 512:
            break

    key = f"{redis_store.prefix}:card:c:e"
    assert client.zcard(key) == 512
    assert 0 < client.ttl(key) <= 31 * 86400
