"""The shared tables' betting windows: in one process's memory, or shared by every process in Redis.

A window's state (phase, the spin's draw, bets in flight, when betting closes) is one hash
beside its room's keys (`room_store.table_key`), so it goes with the room. Times on Redis
are Redis's own clock (ms), shared by every process. `tables` decides which store serves.
"""

import json
import math
import threading
import time

from redis.exceptions import RedisError

from ...adapters.redis_lua import LuaScript
from .room_store import RoomsUnavailable, table_key


class MemoryTables:
    """Betting windows of one process, under one lock (no Redis configured)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._tables = {}  # room_id -> {"state": {...} | None, "phase", "inflight", "closes_at", "expires_at"}

    def begin_bet(self, room_id, ttl):
        with self._lock:
            table = self._tables.get(room_id)
            if table is None or table["expires_at"] < time.monotonic():
                self._tables[room_id] = {
                    "phase": "opening",
                    "state": None,
                    "inflight": 0,
                    "closes_at": 0.0,
                    "expires_at": time.monotonic() + ttl,
                }
                return "open", None
            if table["phase"] == "opening":
                return "wait", None
            if table["phase"] == "betting" and time.monotonic() < table["closes_at"]:
                table["inflight"] += 1
                return "bet", dict(table["state"])
            return "closed", None

    def opened(self, room_id, state, seconds, ttl):
        with self._lock:
            table = self._tables.get(room_id)
            if table is not None:
                now = time.monotonic()
                table.update(phase="betting", state=dict(state), closes_at=now + seconds, expires_at=now + ttl)

    def bet_done(self, room_id):
        with self._lock:
            table = self._tables.get(room_id)
            if table is not None:
                table["inflight"] -= 1

    def close(self, room_id):
        with self._lock:
            table = self._tables.get(room_id)
            if table is None or table["state"] is None:
                return None, 0
            table["phase"] = "settling"
            return dict(table["state"]), table["inflight"]

    def peek(self, room_id):
        with self._lock:
            table = self._tables.get(room_id)
            if table is None or table["state"] is None:
                return None, 0
            return dict(table["state"]), table["inflight"]

    def clear(self, room_id):
        with self._lock:
            self._tables.pop(room_id, None)

    def closes_in(self, room_id):
        """Whole seconds left in the room's betting window, or None when no window is open."""
        with self._lock:
            table = self._tables.get(room_id)
            if table is None or table["phase"] != "betting":
                return None
            left = table["closes_at"] - time.monotonic()
        return math.ceil(left) if left > 0 else None


# KEYS[1] = the room's table hash; ARGV[1] = ttl seconds. Times are Redis's clock (ms), shared by all.
_BEGIN_BET = LuaScript("""
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local phase = redis.call('HGET', KEYS[1], 'phase')
if not phase then
  redis.call('HSET', KEYS[1], 'phase', 'opening', 'inflight', 0)
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  return {'open', false}
end
if phase == 'opening' then return {'wait', false} end
if phase == 'betting' and now < tonumber(redis.call('HGET', KEYS[1], 'closes_at')) then
  redis.call('HINCRBY', KEYS[1], 'inflight', 1)
  return {'bet', redis.call('HGET', KEYS[1], 'state')}
end
return {'closed', false}
""")

_OPENED = LuaScript("""
if not redis.call('HGET', KEYS[1], 'phase') then return 0 end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('HSET', KEYS[1], 'phase', 'betting', 'state', ARGV[1], 'closes_at', now + tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
""")

_CLOSE = LuaScript("""
if not redis.call('HGET', KEYS[1], 'state') then return {false, 0} end
redis.call('HSET', KEYS[1], 'phase', 'settling')
return {redis.call('HGET', KEYS[1], 'state'), tonumber(redis.call('HGET', KEYS[1], 'inflight'))}
""")


_CLOSES_IN = LuaScript("""
if redis.call('HGET', KEYS[1], 'phase') ~= 'betting' then return -1 end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
return tonumber(redis.call('HGET', KEYS[1], 'closes_at')) - now
""")


class RedisTables:
    """Betting windows shared by every process through Redis; each step one script or command."""

    def __init__(self, client):
        self.client = client

    @staticmethod
    def _key(room_id):
        return table_key(room_id)

    def _call(self, operation):
        try:
            return operation()
        except RedisError as exc:
            # The window is shared state: a per-process fallback would split it, so refuse.
            raise RoomsUnavailable(f"multiplayer rooms are unavailable: {exc}") from None

    def begin_bet(self, room_id, ttl):
        action, state = self._call(lambda: _BEGIN_BET(self.client, [self._key(room_id)], [ttl]))
        return (action.decode() if isinstance(action, bytes) else action), json.loads(state) if state else None

    def opened(self, room_id, state, seconds, ttl):
        self._call(lambda: _OPENED(self.client, [self._key(room_id)], [json.dumps(state), int(seconds * 1000), ttl]))

    def bet_done(self, room_id):
        self._call(lambda: self.client.hincrby(self._key(room_id), "inflight", -1))

    def close(self, room_id):
        state, inflight = self._call(lambda: _CLOSE(self.client, [self._key(room_id)], []))
        return (json.loads(state) if state else None), int(inflight or 0)

    def peek(self, room_id):
        state, inflight = self._call(lambda: self.client.hmget(self._key(room_id), "state", "inflight"))
        return (json.loads(state) if state else None), int(inflight or 0)

    def clear(self, room_id):
        self._call(lambda: self.client.delete(self._key(room_id)))

    def closes_in(self, room_id):
        """Whole seconds left in the room's betting window (Redis's clock), or None."""
        left = int(self._call(lambda: _CLOSES_IN(self.client, [self._key(room_id)], [])))
        return math.ceil(left / 1000) if left > 0 else None
