"""Live leaderboards: join a board's room, and coalesced `leaderboard_update` pushes.

Boards come from issue 4's `services.leaderboards.top(metric, timeframe, limit)`, reached
through `LeaderboardSource` so this layer never computes a board itself (and tests can
give it a fake). Until that module exists there is nothing to push.

Coalescing: each settled round marks every board changed. A board's first change opens
a window and makes this process its pusher; changes during the window only mark it
dirty. After LEADERBOARD_PUSH_INTERVAL the pusher reads the board once and emits it, then
keeps the window open for another interval if changes arrived meanwhile, else closes it.
So a board is pushed at most once per interval, carrying its state as of the push, and
no change is left unpushed. With Redis the window state is shared (Lua scripts): only one
process in the whole deployment pushes a given board, through the message queue to all.
"""

import importlib
import threading

import marshmallow as ma
import structlog
from flask import current_app
from flask_socketio import emit, join_room, leave_room
from redis.exceptions import RedisError

from .. import metrics
from ..extensions import redis_store, socketio
from ..services.errors import ValidationFailed
from ..services.redis_lua import LuaScript
from .protocol import event, scheduler

log = structlog.get_logger(__name__)

DEFAULT_METRICS = ("total_winnings", "biggest_win", "games_played")
DEFAULT_TIMEFRAMES = ("daily", "weekly", "all_time")
_SOURCE = "imperio.leaderboard_source"
_PUSHER = "imperio.leaderboard_pusher"
KEY_PREFIX = "imperio:lbpush:"


def board_room(metric, timeframe):
    """The Socket.IO room of one board."""
    return f"leaderboard:{metric}:{timeframe}"


class LeaderboardSource:
    """Adapter over the leaderboards service (module imported lazily; replaceable in tests)."""

    def __init__(self, module=None):
        self._module = module

    def module(self):
        """The leaderboards service module, or None while it does not exist."""
        if self._module is None:
            try:
                self._module = importlib.import_module("imperioApp.services.leaderboards")
            except ImportError:
                return None
        return self._module

    def metrics(self):
        """The valid metrics."""
        return tuple(getattr(self.module(), "METRICS", DEFAULT_METRICS))

    def timeframes(self):
        """The valid timeframes."""
        return tuple(getattr(self.module(), "TIMEFRAMES", DEFAULT_TIMEFRAMES))

    def boards(self):
        """Every (metric, timeframe)."""
        return [(metric, timeframe) for metric in self.metrics() for timeframe in self.timeframes()]

    def top(self, metric, timeframe, limit):
        """The board's top entries [{rank, user_id, username, score}], or None if unavailable."""
        module = self.module()
        if module is None:
            return None
        return module.top(metric, timeframe, limit=limit)


def source():
    """The current app's leaderboard source."""
    return current_app.extensions[_SOURCE]


# --- window state ----------------------------------------------------------------------


class MemoryWindows:
    """Push windows of one process, under one lock."""

    def __init__(self):
        self._lock = threading.Lock()
        self._open = set()
        self._dirty = set()

    def open_or_mark(self, boards):
        """Mark boards changed; return those whose window this call opened (we push them)."""
        owned = []
        with self._lock:
            for board in boards:
                if board in self._open:
                    self._dirty.add(board)
                else:
                    self._open.add(board)
                    owned.append(board)
        return owned

    def begin(self, board):
        """About to read the board: changes from now on need another push."""
        with self._lock:
            self._dirty.discard(board)

    def finish(self, board):
        """Pushed: keep the window (True) if the board changed meanwhile, else close it."""
        with self._lock:
            if board in self._dirty:
                self._dirty.discard(board)
                return True
            self._open.discard(board)
            return False


# KEYS = window1, dirty1, window2, dirty2, ...; ARGV[1] = safety ttl ms → owned indexes (1-based)
_OPEN_OR_MARK = LuaScript("""
local owned = {}
for i = 1, #KEYS, 2 do
  if redis.call('SET', KEYS[i], '1', 'NX', 'PX', ARGV[1]) then
    table.insert(owned, (i + 1) / 2)
  else
    redis.call('SET', KEYS[i + 1], '1', 'PX', ARGV[1])
  end
end
return owned
""")

_BEGIN = LuaScript("""
redis.call('DEL', KEYS[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
""")

_FINISH = LuaScript("""
if redis.call('DEL', KEYS[2]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  return 1
end
redis.call('DEL', KEYS[1])
return 0
""")


class RedisWindows:
    """Push windows shared by every process (Lua scripts on the app's Redis)."""

    # A window key outlives its owner only by a safety TTL: a crashed pusher delays a
    # board's pushes by seconds, never for good.

    def __init__(self, client, interval):
        self.client = client
        self.safety_ms = int(max(interval * 10, 5) * 1000)

    @staticmethod
    def _keys(board):
        base = KEY_PREFIX + ":".join(board)
        return [base, base + ":dirty"]

    def open_or_mark(self, boards):
        keys = [key for board in boards for key in self._keys(board)]
        owned = _OPEN_OR_MARK(self.client, keys, [self.safety_ms])
        return [boards[int(index) - 1] for index in owned]

    def begin(self, board):
        _BEGIN(self.client, self._keys(board), [self.safety_ms])

    def finish(self, board):
        return bool(_FINISH(self.client, self._keys(board), [self.safety_ms]))


class LeaderboardPusher:
    """Turns "boards changed" into coalesced pushes (see the module docstring)."""

    def __init__(self, app):
        self.app = app
        self.interval = app.config["LEADERBOARD_PUSH_INTERVAL"]
        self.limit = app.config["LEADERBOARD_PUSH_SIZE"]
        self.memory = MemoryWindows()
        self.stopped = False
        # Held across the stopped check and the push, so that once stop() returns no task
        # of this pusher emits again, not even one that had already woken up.
        self._pushing = threading.Lock()

    def stop(self):
        """End pushing for good: a push under way finishes, sleeping tasks exit when they wake."""
        with self._pushing:
            self.stopped = True

    def _windows(self):
        client = redis_store.client
        return RedisWindows(client, self.interval) if client is not None else self.memory

    def _call(self, operation, *args):
        # Redis down: coalesce per process rather than stop pushing (degrade, don't die).
        windows = self._windows()
        try:
            return getattr(windows, operation)(*args)
        except RedisError as exc:
            log.warning("leaderboard_push_windows_unavailable", error=str(exc))
            return getattr(self.memory, operation)(*args)

    def boards_changed(self, boards):
        """Schedule pushes for changed boards (cheap: one Redis round trip at most)."""
        if self.stopped:
            return
        for board in self._call("open_or_mark", list(boards)):
            scheduler(self.app).start_background_task(self._run, board)

    def _run(self, board):
        while True:
            scheduler(self.app).sleep(self.interval)
            with self._pushing:
                if self.stopped:
                    return
                with self.app.app_context():
                    try:
                        self._call("begin", board)
                        self.push(board)
                    except Exception:
                        log.exception("leaderboard_push_failed", board=":".join(board))
                    if not self._call("finish", board):
                        return

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


# --- events ----------------------------------------------------------------------------


class BoardSchema(ma.Schema):
    metric = ma.fields.String(required=True)
    timeframe = ma.fields.String(required=True)


def _valid_board(data):
    boards = source()
    if data["metric"] not in boards.metrics():
        raise ValidationFailed(f"metric must be one of {', '.join(boards.metrics())}", code="invalid_metric")
    if data["timeframe"] not in boards.timeframes():
        raise ValidationFailed(f"timeframe must be one of {', '.join(boards.timeframes())}", code="invalid_timeframe")
    return data["metric"], data["timeframe"]


@event("join_leaderboard", BoardSchema)
def on_join_leaderboard(who, data):
    """Receive `leaderboard_update` for one board; its current state arrives at once."""
    metric, timeframe = _valid_board(data)
    join_room(board_room(metric, timeframe))
    rows = source().top(metric, timeframe, current_app.config["LEADERBOARD_PUSH_SIZE"])
    reply = {"metric": metric, "timeframe": timeframe, "leaderboard": rows or []}
    emit("leaderboard_update", reply)
    return reply


@event("leave_leaderboard", BoardSchema)
def on_leave_leaderboard(who, data):
    """Stop receiving one board's updates."""
    metric, timeframe = _valid_board(data)
    leave_room(board_room(metric, timeframe))
    return {"metric": metric, "timeframe": timeframe}
