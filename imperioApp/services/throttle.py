"""Sliding-window rate limits for events that are not HTTP requests (chat messages).

`hit(key, limit, window)` records one action and says whether it is allowed: at most
`limit` allowed actions in any `window` seconds. The check and the record are one atomic
step — a Lua script on Redis (Redis's own clock, so every process agrees), a lock-guarded
log in memory otherwise — so two racing messages can never both take the last slot.
Refused actions are not recorded: a flood does not extend its own ban.
"""

import threading
import time
import uuid
from collections import defaultdict, deque

import structlog
from flask import current_app
from redis.exceptions import RedisError

from ..extensions import redis_store
from .redis_lua import LuaScript

log = structlog.get_logger(__name__)
KEY_PREFIX = "imperio:throttle:"

# KEYS[1] = the log (sorted set of action ids scored by time in ms)
# ARGV = limit, window_ms, member → {allowed (1/0), retry_after_ms}
_HIT = LuaScript("""
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000 + math.floor(now_parts[2] / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return {1, 0}
""")


class MemoryWindow:
    """The in-process limiter: per key, the times of the allowed actions, under one lock."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._logs = defaultdict(deque)

    def hit(self, key, limit, window):
        """Record an action if allowed; return (allowed, retry_after_seconds)."""
        with self._lock:
            now = self._clock()
            entries = self._logs[key]
            while entries and entries[0] <= now - window:
                entries.popleft()
            if len(entries) >= limit:
                return False, entries[0] + window - now
            entries.append(now)
            return True, 0.0

    def reset(self):
        """Forget every window (tests)."""
        with self._lock:
            self._logs.clear()


def _memory():
    """This app's in-process windows (each app its own, like its Redis keys)."""
    return current_app.extensions.setdefault("imperio.throttle", MemoryWindow())


def hit(key, limit, window):
    """Record one action under `key`; return (allowed, retry_after_seconds)."""
    client = redis_store.client
    if client is not None:
        try:
            return _redis_hit(client, key, limit, window)
        except RedisError as exc:
            # Degrade to a per-process limit rather than letting a flood through or refusing all.
            log.warning("throttle_redis_unavailable", error=str(exc))
    return _memory().hit(key, limit, window)


def _redis_hit(client, key, limit, window):
    allowed, retry_ms = _HIT(client, keys=[KEY_PREFIX + key], args=[limit, int(window * 1000), uuid.uuid4().hex])
    return bool(allowed), max(int(retry_ms), 0) / 1000


def reset():
    """Forget this app's in-memory windows (tests; Redis windows go with FLUSHDB)."""
    _memory().reset()
