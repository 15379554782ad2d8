"""The domain event bus: services publish after commit; the realtime layer subscribes.

One bus per app (in `app.extensions`), in-process and synchronous. A subscriber's failure
is logged and never reaches the publisher: the round it describes has already committed.
Events: round_settled, achievement_unlocked, notification, big_win, sessions_ended.
"""

from collections import defaultdict

import structlog
from flask import current_app

from .unit_of_work import after_commit

log = structlog.get_logger(__name__)
_EXTENSION = "imperio.events"


class EventBus:
    """Named events to subscriber callables `handler(name, payload)`."""

    def __init__(self):
        self._subscribers = defaultdict(list)

    def subscribe(self, name, handler):
        """Call `handler(name, payload)` for every `name` event ("*" for all)."""
        self._subscribers[name].append(handler)

    def publish(self, name, payload):
        """Deliver an event now to every subscriber, isolating their failures."""
        for handler in (*self._subscribers.get(name, ()), *self._subscribers.get("*", ())):
            try:
                handler(name, payload)
            except Exception:
                log.exception("event_subscriber_failed", event_name=name)


def init_app(app):
    """Give the app its bus."""
    app.extensions[_EXTENSION] = EventBus()


def bus():
    """The current app's bus."""
    return current_app.extensions[_EXTENSION]


def publish_after_commit(name, payload):
    """Publish once the current transaction commits (never if it rolls back)."""
    target = bus()
    after_commit(lambda: target.publish(name, payload))
