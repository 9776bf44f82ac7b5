"""Token buckets for the API's rate limits (spec §15): per secret key, or per client IP.

With Redis (REDIS_URL) the bucket lives in Redis and is updated by one Lua script, so every web
process shares it atomically; without Redis (embedded mode, one process) it lives in memory.
The same script can read one more Redis key (`take(..., read=KEY)`), so that a request learns,
say, the authentication version (merchants.keycache) without a second round trip.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import redis
from django.conf import settings

_LUA = """
local tokens_key = KEYS[1]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', tokens_key, 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil then tokens = burst; at = now end
tokens = math.min(burst, tokens + (now - at) * rate)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', tokens_key, 'tokens', tokens, 'at', now)
redis.call('EXPIRE', tokens_key, math.ceil(burst / rate) + 1)
local value = false
if KEYS[2] then value = redis.call('GET', KEYS[2]) end
return {allowed, tostring(tokens), value}
"""


@dataclass
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # Unix time when the bucket is full again
    retry_after: int  # seconds until one token is available (when refused)
    # With take(..., read=KEY): whether Redis answered, and KEY's value then (bytes, or None).
    read_ok: bool = False
    value: bytes | None = None


class _MemoryBuckets:
    def __init__(self):
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, key, rate, burst, now):
        with self._lock:
            tokens, at = self._state.get(key, (float(burst), now))
            tokens = min(burst, tokens + (now - at) * rate)
            allowed = tokens >= 1
            if allowed:
                tokens -= 1
            self._state[key] = (tokens, now)
            if len(self._state) > 100_000:  # bound memory: forget the oldest buckets
                for stale in sorted(self._state, key=lambda k: self._state[k][1])[:10_000]:
                    del self._state[stale]
            return allowed, tokens


_memory = _MemoryBuckets()
_redis_script = None


def _redis_take(key, rate, burst, now, read):
    global _redis_script
    if _redis_script is None:
        client = redis.Redis.from_url(settings.REDIS_URL)
        _redis_script = client.register_script(_LUA)
    keys = [f"ratelimit:{key}"] if read is None else [f"ratelimit:{key}", read]
    allowed, tokens, value = _redis_script(keys=keys, args=[rate, burst, now])
    return bool(allowed), float(tokens), value


def take(key: str, *, read: str | None = None) -> Verdict:
    """Take one token from `key`'s bucket; with `read`, also read that Redis key in the same call."""
    rate = float(settings.API_RATE_LIMIT_PER_SECOND)
    burst = int(settings.API_RATE_LIMIT_BURST)
    now = time.time()
    read_ok, value = False, None
    if settings.REDIS_URL:
        try:
            allowed, tokens, value = _redis_take(key, rate, burst, now, read)
            read_ok = read is not None
        except Exception:  # Redis down must not take the API down: fall back to this process
            allowed, tokens = _memory.take(key, rate, burst, now)
    else:
        allowed, tokens = _memory.take(key, rate, burst, now)
    missing = burst - tokens
    return Verdict(
        allowed=allowed,
        limit=burst,
        remaining=max(0, math.floor(tokens)),
        reset_at=math.ceil(now + missing / rate),
        retry_after=0 if allowed else max(1, math.ceil((1 - tokens) / rate)),
        read_ok=read_ok,
        value=value,
    )


def reset():
    """Tests: forget in-memory buckets."""
    global _memory
    _memory = _MemoryBuckets()
