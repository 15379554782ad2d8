"""Sliding-window rate limits for events that are not HTTP requests (chat messages).

`hit(key, limit, window)` records one action and says whether it is allowed: at most
`limit` allowed actions in any `window` seconds. `claim` is the same step returning the
recorded action's id, so that `release` can take back an action that turned out harmless
(a login that succeeded) and `clear` can forget a key altogether. The check and the record are one atomic
step — a Lua script on Redis (Redis's own clock, so every process agrees), a lock-guarded
log in memory otherwise — so two racing messages can never both take the last slot.
Refused actions are not recorded: a flood does not extend its own ban.
"""

import uuid

import structlog
from flask import current_app
from redis.exceptions import RedisError

from ...extensions import redis_store
from .throttle_store import MemoryWindow, RedisWindows

log = structlog.get_logger(__name__)


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
            allowed, retry_ms = RedisWindows(client).claim(key, limit, window, member)
            return (member if allowed else None), max(int(retry_ms), 0) / 1000
        except RedisError as exc:
            # Degrade to a per-process limit rather than letting a flood through or refusing all.
            log.warning("throttle_redis_unavailable", error=str(exc))
    return _memory().claim(key, limit, window, member)


def release(key, member):
    """Take back the action `member` recorded under `key` (it no longer counts)."""
    _on_both("release", key, member)


def clear(key):
    """Forget every action recorded under `key`."""
    _on_both("clear", key)


def clear_prefix(prefix):
    """Forget every key starting with `prefix` (`prefix` holds no glob characters)."""
    _on_both("clear_prefix", prefix)


def _on_both(operation, *args):
    # The memory window may hold actions recorded while Redis was down: clean both.
    client = redis_store.client
    if client is not None:
        try:
            getattr(RedisWindows(client), operation)(*args)
        except RedisError as exc:
            log.warning("throttle_redis_unavailable", error=str(exc))
    getattr(_memory(), operation)(*args)


def reset():
    """Forget this app's in-memory windows (tests; Redis windows go with FLUSHDB)."""
    _memory().reset()
