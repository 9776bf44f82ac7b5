"""API keys cached per process (merchants/keycache.py): no query while nothing changed, and every
change honoured from the next request, in this process and in any other.

These tests need Redis (the cache is off without it); the cross-process one needs MariaDB too,
so that a second process sees this one's committed rows.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from merchants import keycache
from merchants.models import ApiKey, Merchant
from merchants.services import keys
from merchants.services.audit import Actor
from payplug import ratelimit
from tests import factories

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

ACTOR = Actor.system("tests")
ROOT = Path(__file__).resolve().parents[2]


def key_queries(raw) -> tuple[int, int]:
    """(status, number of queries that read merchants_apikey) of one API request."""
    with CaptureQueriesContext(connection) as queries:
        response = factories.ApiClient(raw).get("/v1/payments")
    reads = [q["sql"] for q in queries.captured_queries if "merchants_apikey" in q["sql"] and "SELECT" in q["sql"]]
    return response.status_code, len(reads)


def test_a_known_key_is_not_read_again_while_nothing_changed(merchant_a):
    raw = factories.secret_key(merchant_a)

    assert key_queries(raw) == (200, 1)
    assert key_queries(raw) == (200, 0)
    assert key_queries(raw) == (200, 0)


def test_a_revoked_key_is_refused_from_the_next_request(merchant_a):
    raw = factories.secret_key(merchant_a)
    assert key_queries(raw) == (200, 1)
    key = ApiKey.objects.get(key_hash=ApiKey.hash_key(raw))

    keys.revoke_api_key(key, ACTOR)

    assert key_queries(raw) == (401, 1)


def test_a_suspension_by_queryset_update_is_seen_at_once(merchant_a):
    raw = factories.secret_key(merchant_a)
    assert key_queries(raw)[0] == 200

    Merchant.objects.filter(pk=merchant_a.pk).update(status=Merchant.Status.SUSPENDED)

    assert key_queries(raw) == (403, 1)


def test_recording_the_last_use_keeps_the_cache(merchant_a):
    raw = factories.secret_key(merchant_a)
    key_queries(raw)

    ApiKey.objects.filter(key_hash=ApiKey.hash_key(raw)).update(last_used_at=timezone.now())

    assert key_queries(raw) == (200, 0)


def test_a_change_committed_while_the_key_was_being_read_is_not_missed(merchant_a, monkeypatch):
    """The version is read before the row: a write that lands between the two leaves the cached
    key under an old version, so the next request reads the row again."""
    raw = factories.secret_key(merchant_a)
    lookup = keys._KEY_BY_HASH.first

    def read_then_suspended_by_someone_else(key_hash):
        key = lookup(key_hash)
        Merchant.objects.filter(pk=merchant_a.pk).update(status=Merchant.Status.SUSPENDED)
        return key

    monkeypatch.setattr(keys._KEY_BY_HASH, "first", read_then_suspended_by_someone_else)
    assert key_queries(raw) == (200, 1)  # the row as it was read
    monkeypatch.setattr(keys._KEY_BY_HASH, "first", lookup)

    assert key_queries(raw) == (403, 1)


def test_without_an_answer_from_redis_every_request_reads_its_key(merchant_a, monkeypatch):
    raw = factories.secret_key(merchant_a)
    monkeypatch.setattr(settings, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    monkeypatch.setattr(ratelimit, "_redis_script", None)

    assert key_queries(raw) == (200, 1)
    assert key_queries(raw) == (200, 1)


def test_entries_are_dropped_after_max_age_whatever_the_version(merchant_a, monkeypatch):
    raw = factories.secret_key(merchant_a)
    key_queries(raw)
    now = keycache.time.monotonic()
    monkeypatch.setattr(keycache.time, "monotonic", lambda: now + keycache.MAX_AGE + 1)

    assert key_queries(raw) == (200, 1)


def test_each_request_gets_its_own_instances(merchant_a):
    raw = factories.secret_key(merchant_a)
    version = b"v-test"
    first = keys.find_api_key(raw, auth_version=version)
    first.merchant.allowed_origins.append("https://evil.example")
    first.merchant.name = "changed in one request"
    first.revoked_at = timezone.now()

    second = keys.find_api_key(raw, auth_version=version)

    assert second is not first and second.merchant is not first.merchant
    assert second.merchant.allowed_origins == [] and second.merchant.name == merchant_a.name
    assert second.revoked_at is None


def test_turned_off_it_reads_every_time(merchant_a, settings):
    settings.API_KEY_CACHE = False
    raw = factories.secret_key(merchant_a)

    assert key_queries(raw) == (200, 1)
    assert key_queries(raw) == (200, 1)


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_a_key_revoked_by_another_process_is_refused_by_this_one(merchant_a):
    raw = factories.secret_key(merchant_a)
    assert key_queries(raw) == (200, 1)
    assert key_queries(raw) == (200, 0)  # cached here

    db = settings.DATABASES["default"]
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 3306
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(
        DJANGO_SETTINGS_MODULE="payplug.test_settings",
        DATABASE_URL=f"mysql://{db['USER']}:{db['PASSWORD']}@{host}:{port}/{db['NAME']}",
        REDIS_URL=settings.REDIS_URL,
    )
    script = (
        "import django; django.setup()\n"
        "from merchants.models import ApiKey\n"
        "from merchants.services.audit import Actor\n"
        "from merchants.services.keys import revoke_api_key\n"
        f"key = ApiKey.objects.get(key_hash=ApiKey.hash_key({raw!r}))\n"
        "revoke_api_key(key, Actor.system('other process'))\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=120)

    assert key_queries(raw) == (401, 1)
