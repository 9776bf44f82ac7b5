"""Shared fixtures. The cast: alice owns merchant A, bob is a member of A, charlie owns merchant B."""

import os

import pytest
from django.conf import settings
from django.core.cache import cache

from fraud.features import set_default_store
from merchants import keycache
from payplug import keyring, ratelimit
from tests import factories

IN_CI = bool(os.environ.get("CI"))


def pytest_collection_modifyitems(config, items):
    """Deselect MySQL/Redis tests when those services are not configured.

    They are not skipped: `make test` on SQLite leaves them out, and the MariaDB + Redis run
    (which CI always makes) runs them. Skips are reserved for real problems and fail CI.
    """
    on_mysql = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.mysql"
    has_redis = bool(os.environ.get("REDIS_URL"))
    kept, dropped = [], []
    for item in items:
        if ("mysql" in item.keywords and not on_mysql) or ("redis" in item.keywords and not has_redis):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = terminalreporter.stats.get("skipped", [])
    if IN_CI and skipped and not config.getoption("--allow-skips"):
        terminalreporter.write_line(
            f"CI is set and {len(skipped)} test(s) were skipped: failing the run.", red=True, bold=True
        )
        for report in skipped:
            terminalreporter.write_line(f"  skipped: {report.nodeid} ({report.longrepr[-1]})")


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if IN_CI and reporter and reporter.stats.get("skipped") and not session.config.getoption("--allow-skips"):
        session.exitstatus = 1


def pytest_addoption(parser):
    parser.addoption("--allow-skips", action="store_true", help="let skips pass even when CI is set")


@pytest.fixture(autouse=True)
def _fresh_caches():
    keyring.reset_cache()
    ratelimit.reset()
    keycache.clear()
    # The fraud engine's in-memory feature store would carry one test's velocity into the next.
    set_default_store(None)
    yield
    cache.clear()


@pytest.fixture
def alice(db):
    return factories.user("alice@example.org")


@pytest.fixture
def merchant_a(alice):
    return factories.merchant("Alice Shop", owner=alice)


@pytest.fixture
def charlie(db):
    return factories.user("charlie@example.org")


@pytest.fixture
def merchant_b(charlie):
    return factories.merchant("Charlie Store", owner=charlie)


@pytest.fixture
def alice_client(client, alice, merchant_a):
    client.force_login(alice)
    return client


@pytest.fixture
def api_key_a(merchant_a):
    return factories.secret_key(merchant_a)


@pytest.fixture
def api_key_b(merchant_b):
    return factories.secret_key(merchant_b)


@pytest.fixture
def api(api_key_a):
    return factories.ApiClient(api_key_a)


@pytest.fixture
def api_b(api_key_b):
    return factories.ApiClient(api_key_b)
