"""The throttle's windows: a lock-guarded log per key in memory, or a sorted set per key in Redis.

On Redis the check and the record are one Lua script on Redis's own clock, so every process
agrees; `throttle` decides which store serves and falls back to memory while Redis is down.
"""

import threading
import time
import uuid
from collections import defaultdict, deque

from ...adapters.redis_lua import LuaScript

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


class RedisWindows:
    """Sliding windows shared by every process: a sorted set of action ids per key."""

    def __init__(self, client):
        self.client = client

    def claim(self, key, limit, window, member):
        """(allowed, retry_after_ms) of recording `member` under `key`, in one script."""
        return _HIT(self.client, keys=[KEY_PREFIX + key], args=[limit, int(window * 1000), member])

    def release(self, key, member):
        self.client.zrem(KEY_PREFIX + key, member)

    def clear(self, key):
        self.client.delete(KEY_PREFIX + key)

    def clear_prefix(self, prefix):
        keys = list(self.client.scan_iter(match=KEY_PREFIX + prefix + "*", count=1000))
        if keys:
            self.client.delete(*keys)
