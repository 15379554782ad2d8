"""Circuit breakers: after a dependency fails, skip it for a while instead of waiting on it again.

A Redis client that cannot connect spends its timeouts and retries (seconds, with
redis-py's default backoff) on every call; without a breaker every round and every read
would pay that while Redis is down. One breaker per dependency per app process.
"""

import time

from flask import current_app

_EXTENSION = "imperio.breakers"
DEFAULT_COOLDOWN = 5.0  # seconds


def _state():
    return current_app.extensions.setdefault(_EXTENSION, {})


def is_open(name):
    """True while `name` is being skipped after a recent failure."""
    return time.monotonic() < _state().get(name, 0.0)


def trip(name):
    """Record a failure of `name`: skip it for REDIS_BREAKER_COOLDOWN seconds."""
    _state()[name] = time.monotonic() + current_app.config.get("REDIS_BREAKER_COOLDOWN", DEFAULT_COOLDOWN)


def reset(name=None):
    """Close one breaker (or all): the dependency is tried again at once."""
    if name is None:
        _state().clear()
    else:
        _state().pop(name, None)
