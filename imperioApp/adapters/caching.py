"""Read-through caching over Flask-Caching: a failing cache slows a read, never breaks it.

Entries are short-lived rather than invalidated: the settlement hot path makes no cache
call, and a value is never staler than its timeout (DESIGN: a settled round is visible
within a second).
"""

import structlog
from flask import current_app

from ..extensions import cache
from . import breaker

log = structlog.get_logger(__name__)
BREAKER = "cache"


def _failed(operation, key, exc):
    breaker.trip(BREAKER)
    log.warning("cache_unavailable", operation=operation, key=key, error=str(exc))


def remember(key, timeout, compute):
    """The cached value for `key`, else `compute()` stored for `timeout` seconds."""
    if breaker.is_open(BREAKER):
        return compute()
    try:
        value = cache.get(key)
    except Exception as exc:  # Redis down or unreachable: answer from the source
        _failed("get", key, exc)
        return compute()
    if value is not None:
        return value
    value = compute()
    try:
        cache.set(key, value, timeout=timeout)
    except Exception as exc:
        _failed("set", key, exc)
    return value


def ttl(name, default):
    """A cache timeout in seconds from the app config, else `default`."""
    return current_app.config.get(name, default)
