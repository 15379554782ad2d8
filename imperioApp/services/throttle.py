"""Sliding-window rate limits for events that are not HTTP requests (chat messages).

`hit(key, limit, window)` records one action and says whether it is allowed: at most
`limit` allowed actions in any `window` seconds. `claim` is the same step returning the
recorded action's id, so that `release` can take back an action that turned out harmless
(a login that succeeded) and `clear` can forget a key altogether. The check and the record are one atomic
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

from ..adapters.redis_lua import LuaScript
from ..extensions import redis_store

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
    """The in-process limiter: per key, the (time, id) of the allowed actions, under one lock."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._logs = defaultdict(deque)

    def hit(self, key, limit, window):
        """Record an action if allowed; return (allowed, retry_after_seconds)."""
        member, retry_after = self.claim(key, limit, window, uuid.uuid4().hex)
        return member is not None, retry_after

    def claim(self, key, limit, window, member):
        """Record action `member` if allowed; return (member or None, retry_after_seconds)."""
        with self._lock:
            now = self._clock()
            entries = self._logs[key]
            while entries and entries[0][0] <= now - window:
                entries.popleft()
            if len(entries) >= limit:
                return None, entries[0][0] + window - now
            entries.append((now, member))
            return member, 0.0

    def release(self, key, member):
        """Take back one recorded action."""
        with self._lock:
            entries = self._logs.get(key)
            if entries:
                self._logs[key] = deque(entry for entry in entries if entry[1] != member)

    def clear(self, key):
        """Forget every action recorded under `key`."""
        with self._lock:
            self._logs.pop(key, None)

    def clear_prefix(self, prefix):
        """Forget every key that starts with `prefix`."""
        with self._lock:
            for key in [key for key in self._logs if key.startswith(prefix)]:
                del self._logs[key]

    def reset(self):
        """Forget every window (tests)."""
        with self._lock:
            self._logs.clear()


def _memory():
    """This app's in-process windows (each app its own, like its Redis keys)."""
    return current_app.extensions.setdefault("imperio.throttle", MemoryWindow())


def hit(key, limit, window):
    """Record one action under `key`; return (allowed, retry_after_seconds)."""
    member, retry_after = claim(key, limit, window)
    return member is not None, retry_after


def claim(key, limit, window):
    """Record one action under `key` if allowed; return (its id or None, retry_after_seconds)."""
    member = uuid.uuid4().hex
    client = redis_store.client
    if client is not None:
        try:
            allowed, retry_ms = _HIT(client, keys=[KEY_PREFIX + key], args=[limit, int(window * 1000), member])
            return (member if allowed else None), max(int(retry_ms), 0) / 1000
        except RedisError as exc:
            # Degrade to a per-process limit rather than letting a flood through or refusing all.
            log.warning("throttle_redis_unavailable", error=str(exc))
    return _memory().claim(key, limit, window, member)


def release(key, member):
    """Take back the action `member` recorded under `key` (it no longer counts)."""
    _on_both(lambda client: client.zrem(KEY_PREFIX + key, member), lambda memory: memory.release(key, member))


def clear(key):
    """Forget every action recorded under `key`."""
    _on_both(lambda client: client.delete(KEY_PREFIX + key), lambda memory: memory.clear(key))


def clear_prefix(prefix):
    """Forget every key starting with `prefix` (`prefix` holds no glob characters)."""

    def on_redis(client):
        keys = list(client.scan_iter(match=KEY_PREFIX + prefix + "*", count=1000))
        if keys:
            client.delete(*keys)

    _on_both(on_redis, lambda memory: memory.clear_prefix(prefix))


def _on_both(on_redis, on_memory):
    # The memory window may hold actions recorded while Redis was down: clean both.
    client = redis_store.client
    if client is not None:
        try:
            on_redis(client)
        except RedisError as exc:
            log.warning("throttle_redis_unavailable", error=str(exc))
    on_memory(_memory())


def reset():
    """Forget this app's in-memory windows (tests; Redis windows go with FLUSHDB)."""
    _memory().reset()
