"""/healthz, /readyz and `manage.py wait_for_services`: 503 naming the failing dependency, quickly."""

import io
import os
import threading
import time
from unittest import mock

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.core.management import CommandError, call_command
from django.db import OperationalError, connections
from django.test import override_settings

from payplug import views
from payplug.management.commands import wait_for_services

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"
REDIS_CACHE_DOWN = {"default": {"BACKEND": REDIS_CACHE, "LOCATION": UNREACHABLE_REDIS}}
# The embedded cache, whatever REDIS_URL says, for the tests that patch it.
LOCMEM_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def database_down():
    """Every cursor, in every thread, fails as if the server had gone away."""
    return mock.patch.object(
        type(connections["default"]), "cursor", side_effect=OperationalError("(2006, 'MySQL server has gone away')")
    )


def test_healthz_is_200_without_touching_dependencies(client):
    with database_down():
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_200_on_the_embedded_default(client, settings):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == "ok"
    assert ("broker" in body["checks"]) == bool(settings.CELERY_BROKER_URL)
    assert response["Cache-Control"] == "no-store"


def test_readyz_is_503_naming_the_database_when_it_is_down(client):
    with database_down():
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "unavailable"
    assert body["checks"]["cache"] == "ok"
    # The reason is logged, not published.
    assert "gone away" not in response.content.decode()


@override_settings(CACHES=REDIS_CACHE_DOWN)
def test_readyz_is_503_naming_the_cache_when_redis_is_down(client):
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "unavailable"
    assert response.json()["checks"]["database"] == "ok"


@override_settings(CACHES=LOCMEM_CACHE)
def test_readyz_is_503_when_the_cache_loses_what_it_was_given(client):
    with mock.patch.object(LocMemCache, "get", return_value=None):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "unavailable"


@override_settings(CELERY_BROKER_URL=UNREACHABLE_REDIS)
def test_readyz_is_503_quickly_when_the_broker_is_unreachable(client):
    started = time.monotonic()
    response = client.get("/readyz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["broker"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert elapsed < 2, f"readyz took {elapsed:.1f}s with the broker refusing connections"


@override_settings(CACHES=LOCMEM_CACHE)
def test_a_check_that_hangs_answers_timeout_at_the_deadline(client, monkeypatch):
    monkeypatch.setattr(views, "READYZ_TIMEOUT_SECONDS", 0.3)

    release = threading.Event()

    def stuck(self, *args, **kwargs):
        release.wait(5)

    started = time.monotonic()
    with mock.patch.object(LocMemCache, "set", stuck):
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
        release.set()
        for thread in threading.enumerate():
            if thread.name.startswith("check-"):
                thread.join(5)
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "timeout"} | (
        {"broker": "ok"} if "broker" in response.json()["checks"] else {}
    )
    assert elapsed < 1.2


@pytest.mark.redis
def test_readyz_is_200_with_a_live_redis_as_cache_and_broker(client):
    url = os.environ["REDIS_URL"]
    caches = {"default": {"BACKEND": REDIS_CACHE, "LOCATION": url}}
    with override_settings(CACHES=caches, CELERY_BROKER_URL=url):
        response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}


# --- wait_for_services -----------------------------------------------------------------


@override_settings(CELERY_BROKER_URL="")
def test_wait_for_services_returns_once_the_database_answers():
    out = io.StringIO()
    call_command("wait_for_services", "--timeout", "5", stdout=out)
    assert out.getvalue().splitlines() == ["database: ok"]


@override_settings(CELERY_BROKER_URL="")
def test_wait_for_services_retries_until_the_database_answers():
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise OperationalError("(2002, \"Can't connect to server on 'mysql'\")")

    out, err = io.StringIO(), io.StringIO()
    with mock.patch.object(wait_for_services, "check_database", flaky):
        call_command("wait_for_services", "--timeout", "5", "--interval", "0.05", stdout=out, stderr=err)
    assert len(attempts) == 3
    assert "database: ok" in out.getvalue()
    assert "Can't connect" in err.getvalue()


@override_settings(CELERY_BROKER_URL=UNREACHABLE_REDIS)
def test_wait_for_services_gives_up_after_the_timeout_naming_the_broker():
    started = time.monotonic()
    with pytest.raises(CommandError) as failure:
        call_command(
            "wait_for_services", "--timeout", "1", "--interval", "0.2", stdout=io.StringIO(), stderr=io.StringIO()
        )
    assert time.monotonic() - started < 3
    assert "broker" in str(failure.value)
    assert "database" not in str(failure.value)
