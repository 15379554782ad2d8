"""Circuit breakers: after a dependency fails, skip it for a while instead of waiting on it again.

A Redis client that cannot connect spends its timeouts and retries (seconds, with
redis-py's default backoff) on every call; without a breaker every round and every read
would pay that while Redis is down. One breaker per dependency per app process.
"""

import time

from flask import current_app

from .. import metrics

_EXTENSION = "imperio.breakers"
DEFAULT_COOLDOWN = 5.0  # seconds


def _state():
    return current_app.extensions.setdefault(_EXTENSION, {})


def is_open(name):
    """True while `name` is being skipped after a recent failure."""
    until = _state().get(name)
    if until is None:
        return False
    if time.monotonic() < until:
        return True
    reset(name)
    return False


def trip(name):
    """Record a failure of `name`: skip it for REDIS_BREAKER_COOLDOWN seconds."""
    _state()[name] = time.monotonic() + current_app.config.get("REDIS_BREAKER_COOLDOWN", DEFAULT_COOLDOWN)
    metrics.breaker_changed(name, True)


def reset(name=None):
    """Close one breaker (or all): the dependency is tried again at once."""
    names = list(_state()) if name is None else [name]
    for closed in names:
        if _state().pop(closed, None) is not None:
            metrics.breaker_changed(closed, False)
