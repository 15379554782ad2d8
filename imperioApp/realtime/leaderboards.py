"""Live leaderboards: join a board's room, and coalesced `leaderboard_update` pushes.

Boards are read through `services.leaderboards.top` (tests may replace the source), and
which process pushes which board, and when again, is decided by the push windows of
`services.board_pushes` (see there). This module only runs the pushes: when a settled
round makes this process a board's pusher (`leaderboard_push_due`), a background task waits
LEADERBOARD_PUSH_INTERVAL, reads the board once and emits it to the board's room, through
the message queue to every process, and repeats while the window stays open.
"""

import marshmallow as ma
import structlog
from flask import current_app
from flask_socketio import emit, join_room, leave_room

from .. import metrics
from ..extensions import socketio
from ..services.engagement import board_pushes, leaderboards
from .coalescing import PushCoalescer
from .protocol import event

log = structlog.get_logger(__name__)

_SOURCE = "imperio.leaderboard_source"
_PUSHER = "imperio.leaderboard_pusher"


def board_room(metric, timeframe):
    """The Socket.IO room of one board."""
    return f"leaderboard:{metric}:{timeframe}"


class LeaderboardSource:
    """Where boards are read: the leaderboards service, or a stand-in given by a test."""

    def __init__(self, module=leaderboards):
        self._module = module

    def top(self, metric, timeframe, limit):
        """The board's top entries [{rank, user_id, username, score}], or None if there is no source."""
        if self._module is None:
            return None
        return self._module.top(metric, timeframe, limit=limit)


def source():
    """The current app's leaderboard source."""
    return current_app.extensions[_SOURCE]


class LeaderboardPusher:
    """Runs the pushes of the boards this process owns (see the module docstring)."""

    def __init__(self, app):
        self.app = app
        self.limit = app.config["LEADERBOARD_PUSH_SIZE"]
        self._windows = PushCoalescer(app, app.config["LEADERBOARD_PUSH_INTERVAL"], self._push_window)

    @property
    def stopped(self):
        return self._windows.stopped

    def stop(self):
        """End pushing for good: a push under way finishes, sleeping tasks exit when they wake."""
        self._windows.stop()

    def schedule(self, boards):
        """Open a push window for each board whose shared window this process owns."""
        for board in boards:
            self._windows.open(tuple(board))

    def _push_window(self, board):
        """One push of a board; True while its shared window stays open for another."""
        try:
            board_pushes.call("begin", board)
            self.push(board)
        except Exception:
            log.exception("leaderboard_push_failed", board=":".join(board))
        return board_pushes.call("finish", board)

    def push(self, board):
        """Read one board now and emit it to its room (through the queue: every process)."""
        metric, timeframe = board
        rows = source().top(metric, timeframe, self.limit)
        if rows is None:
            return
        socketio.emit(
            "leaderboard_update",
            {"metric": metric, "timeframe": timeframe, "leaderboard": rows},
            to=board_room(metric, timeframe),
        )
        metrics.LEADERBOARD_PUSHES.labels(metric, timeframe).inc()


def pusher():
    """The current app's pusher."""
    return current_app.extensions[_PUSHER]


def stop(app):
    """Stop the app's pusher, if it has one."""
    current = app.extensions.get(_PUSHER)
    if current is not None:
        current.stop()


def init_app(app):
    """Give the app its leaderboard source and a fresh pusher (stopping any previous one)."""
    app.extensions.setdefault(_SOURCE, LeaderboardSource())
    stop(app)
    app.extensions[_PUSHER] = LeaderboardPusher(app)
    board_pushes.reset(app)


# --- events ----------------------------------------------------------------------------


class BoardSchema(ma.Schema):
    metric = ma.fields.String(required=True)
    timeframe = ma.fields.String(required=True)


@event("join_leaderboard", BoardSchema)
def on_join_leaderboard(who, data):
    """Receive `leaderboard_update` for one board; its current state arrives at once."""
    metric, timeframe = data["metric"], data["timeframe"]
    leaderboards.validate_board(metric, timeframe)
    join_room(board_room(metric, timeframe))
    rows = source().top(metric, timeframe, current_app.config["LEADERBOARD_PUSH_SIZE"])
    reply = {"metric": metric, "timeframe": timeframe, "leaderboard": rows or []}
    emit("leaderboard_update", reply)
    return reply


@event("leave_leaderboard", BoardSchema)
def on_leave_leaderboard(who, data):
    """Stop receiving one board's updates."""
    metric, timeframe = data["metric"], data["timeframe"]
    leaderboards.validate_board(metric, timeframe)
    leave_room(board_room(metric, timeframe))
    return {"metric": metric, "timeframe": timeframe}
