"""The API keys each web process has already authenticated, used again without a query.

Every API request used to read its key and merchant from the database: 14 % of a create's cost
(bench/README.md). Here each process keeps the keys it has found, with their merchants, and uses
one again only if nothing that authentication reads has changed since it was loaded.

"Nothing changed" is one version in Redis, `auth:version`. Every write of a Merchant or an ApiKey
row through the ORM (save(), delete(), QuerySet.update() and bulk_update(); merchants.models and
merchants.signals) sets it to a new random value, right away and again once its transaction
commits. Every API request reads the version in the same Redis call as its rate limit, before
anything is read from the database (merchants.authentication), and a cached key is used only if
it was loaded under the very version just read. So a key revoked, a merchant suspended or live
mode closed is refused by every process from the first request after the commit, exactly as
without the cache. Setting the version again at the commit matters: another process may have
read the old rows, under the first new version, between that first set and the commit.

Without Redis (the embedded mode), or when Redis does not answer, nothing is cached or served from
the cache. If setting a new version fails (Redis unreachable at that moment; logged as an error),
cached keys are still dropped MAX_AGE seconds after they were loaded, whatever the version says.
Raw SQL writes to these tables are not seen: call changed() after them.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from copy import deepcopy

import redis
from django.conf import settings
from django.db import transaction
from django.db.models.base import ModelState
from django.db.models.fields.files import FieldFile

logger = logging.getLogger(__name__)

VERSION_KEY = "auth:version"
MAX_AGE = 30.0
MAX_ENTRIES = 10_000


class _Unknown:
    def __repr__(self):
        return "UNKNOWN"


# The version when Redis did not give one, or the cache is off (merchants.authentication reads a
# version only when enabled()): nothing is served from or added to the cache.
UNKNOWN = _Unknown()

_entries: dict[str, tuple[object, object, float]] = {}
_lock = threading.Lock()
_client = None


def enabled() -> bool:
    return bool(settings.REDIS_URL) and settings.API_KEY_CACHE


def get(key_hash: str, version):
    """The cached key (its merchant loaded) for this hash, if it was loaded under `version`."""
    if version is UNKNOWN:
        return None
    entry = _entries.get(key_hash)
    if entry is None:
        return None
    key, loaded_under, loaded_at = entry
    if loaded_under != version or time.monotonic() - loaded_at > MAX_AGE:
        _entries.pop(key_hash, None)
        return None
    return key


def put(key_hash: str, key, version) -> None:
    if version is UNKNOWN:
        return
    with _lock:
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[key_hash] = (key, version, time.monotonic())


def clear() -> None:
    """Forget this process's entries (tests)."""
    _entries.clear()


def copy_of(key):
    """A copy of a cached key and its merchant for one request: what a request changes on its
    instances (a field set, a JSON list appended to) never reaches the cache or another request."""
    merchant = _copy_instance(key.merchant)
    clone = _copy_instance(key)
    clone._state.fields_cache["merchant"] = merchant
    return clone


def _copy_instance(instance):
    clone = instance.__class__.__new__(instance.__class__)
    values = instance.__dict__.copy()
    for name, value in values.items():
        if isinstance(value, (list, dict)) and name != "_state":
            values[name] = deepcopy(value)
        elif isinstance(value, FieldFile):  # bound to its instance: the descriptor makes the clone's own
            values[name] = value.name
    state = ModelState()
    state.db = instance._state.db
    state.adding = False
    values["_state"] = state
    clone.__dict__ = values
    return clone


def changed() -> None:
    """Authentication data changed (a Merchant or ApiKey row): every process's cached keys are
    stale. Sets a new version now, and again when the current transaction commits."""
    if not settings.REDIS_URL:
        return
    _set_new_version()
    transaction.on_commit(_set_new_version)


def _set_new_version() -> None:
    global _client
    try:
        if _client is None:
            _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
        _client.set(VERSION_KEY, secrets.token_hex(8))
    except Exception:
        logger.exception(
            "could not set a new authentication version in Redis: API keys cached by the web processes "
            "may be used for up to %s s more",
            MAX_AGE,
        )
