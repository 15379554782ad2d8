"""The domain event bus: services publish after commit; the realtime layer subscribes.

One bus per app (in `app.extensions`), in-process and synchronous. A subscriber's failure
is logged and never reaches the publisher: the round it describes has already committed.

Every event the bus carries is named by a constant below. Its publisher, and its
subscribers in the order they are called (the order `create_app` subscribes them):

- `ROUND_SETTLED`: `rounds.settlement`, after a round's commit (every game).
  1. `engagement.board_pushes.on_round_settled`: queue the round's leaderboard index writes
     and mark its boards changed.
  2. `metrics.on_round_settled`: count the round, its stake and its payout by game.
- `BIG_WIN`: `rounds.settlement`, after a round netting BIG_WIN_THRESHOLD or more.
  1. `realtime.bridge.on_big_win`: announce it to everyone connected.
- `NOTIFICATION`: `engagement.notifications`, once a notification is stored.
  1. `realtime.bridge.on_notification`: deliver it to its user's sockets.
- `ACHIEVEMENT_UNLOCKED`: `engagement.achievements`, once an unlock is stored.
  1. `realtime.bridge.on_achievement_unlocked`: tell the player's sockets.
- `REALITY_CHECK`: `protection.enforcement`, when a player's reality check falls due.
  1. `realtime.bridge.on_reality_check`: show it on the player's sockets.
- `CHAT_BANNED`: `social.chat`, once a ban is stored.
  1. `realtime.bridge.on_chat_banned`: make the player's sockets leave the chat rooms.
- `SESSIONS_ENDED`: `identity.sessions`, once ending sessions committed.
  1. `realtime.bridge.on_sessions_ended`: disconnect their sockets on every process.
- `LEADERBOARD_PUSH_DUE`: `engagement.board_pushes`, when this process becomes the pusher
  of changed boards (published at once: nothing to commit).
  1. `realtime.bridge.on_leaderboard_push_due`: start those boards' pushes.

- `TOURNAMENT_STANDINGS_CHANGED`: `competitions.scoring` and `competitions.entries`, after a
  round scored or a player joined.
  1. `realtime.bridge.on_tournament_standings_changed`: push the standings (at most once a
     second per tournament).
- `TOURNAMENT_CLOSED`: `competitions.closing`, once a period closed (or was cancelled).
  1. `realtime.bridge.on_tournament_closed`: tell the tournament's room.

`ANY` subscribes to every event (the tests' recorder uses it).
"""

from collections import defaultdict

import structlog
from flask import current_app

from .unit_of_work import after_commit

log = structlog.get_logger(__name__)
_EXTENSION = "imperio.events"

ROUND_SETTLED = "round_settled"
BIG_WIN = "big_win"
NOTIFICATION = "notification"
ACHIEVEMENT_UNLOCKED = "achievement_unlocked"
REALITY_CHECK = "reality_check"
CHAT_BANNED = "chat_banned"
SESSIONS_ENDED = "sessions_ended"
LEADERBOARD_PUSH_DUE = "leaderboard_push_due"
TOURNAMENT_STANDINGS_CHANGED = "tournament_standings_changed"
TOURNAMENT_CLOSED = "tournament_closed"
# Every event above, in the docstring's order.
ALL = (
    ROUND_SETTLED,
    BIG_WIN,
    NOTIFICATION,
    ACHIEVEMENT_UNLOCKED,
    REALITY_CHECK,
    CHAT_BANNED,
    SESSIONS_ENDED,
    LEADERBOARD_PUSH_DUE,
    TOURNAMENT_STANDINGS_CHANGED,
    TOURNAMENT_CLOSED,
)
ANY = "*"


class EventBus:
    """Named events to subscriber callables `handler(name, payload)`."""

    def __init__(self):
        self._subscribers = defaultdict(list)

    def subscribe(self, name, handler):
        """Call `handler(name, payload)` for every `name` event (`ANY` for all)."""
        self._subscribers[name].append(handler)

    def publish(self, name, payload):
        """Deliver an event now to every subscriber, isolating their failures."""
        for handler in (*self._subscribers.get(name, ()), *self._subscribers.get(ANY, ())):
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
