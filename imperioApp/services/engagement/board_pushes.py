"""Coalescing windows for leaderboard pushes: which process pushes a board, and whether again.

Each settled round marks every board changed. A board's first change opens a window and
makes the calling process its pusher; changes during the window only mark it dirty. The
pusher (the realtime layer) waits LEADERBOARD_PUSH_INTERVAL, calls `begin`, reads the board
once and emits it, then `finish` keeps the window open for another interval if changes
arrived meanwhile, else closes it. So a board is pushed at most once per interval, carrying
its state as of the push, and no change is left unpushed. With Redis the window state is
shared (Lua scripts): one process in the whole deployment pushes a given board.

After a round commits, `round_settled` reaches `on_round_settled`, which writes the
round's scores to the leaderboard index and marks the windows in one Redis script, then
publishes `leaderboard_push_due` with the boards this process now owns. The writes wait
in a `RoundScoreQueue`: with LEADERBOARD_INDEX_LINGER_SECONDS set (the default, 0.05 s) a
background writer sends everything that settled in the interval in one script call, so a
process makes at most one such call per interval however many rounds it settles (a round's
Redis work had cost its request about as much client CPU as the settlement statement);
with 0, a round alone is written before its request answers and rounds that settle during
a call share the next one. Boards are pushed at most every LEADERBOARD_PUSH_INTERVAL and
read through a one-second cache, so the linger does not show.
"""

import threading
import time
from collections import deque

import structlog
from flask import current_app
from redis.exceptions import RedisError

from ...adapters import leaderboard_index
from ...extensions import redis_store
from ..core import events
from .board_push_store import ALL_BOARDS, MemoryWindows, RedisWindows

log = structlog.get_logger(__name__)

_MEMORY = "imperio.board_push_windows"
_QUEUE = "imperio.round_score_queue"


def _memory(app=None):
    return (app or current_app).extensions.setdefault(_MEMORY, MemoryWindows())


def _redis_windows():
    client = redis_store.client
    return None if client is None else RedisWindows(client, current_app.config["LEADERBOARD_PUSH_INTERVAL"])


def call(operation, *args):
    """Run a window operation (open_or_mark, begin, finish) on the shared windows."""
    # Redis down: coalesce per process rather than stop pushing (degrade, don't die).
    windows = _redis_windows()
    if windows is not None:
        try:
            return getattr(windows, operation)(*args)
        except RedisError as exc:
            log.warning("leaderboard_push_windows_unavailable", error=str(exc))
    return getattr(_memory(), operation)(*args)


class RoundScoreQueue:
    """Settled rounds' index writes waiting for the Redis script, written by one writer at a time.

    With a `linger` (seconds), the first round queued starts a background writer that waits
    the linger, then writes everything queued by then in one call, and again while rounds
    keep arriving: one call per linger at most, and none once the queue is empty. Without
    one, the round that finds no write under way writes at once (with no concurrency, every
    round is written before its request answers, as if unqueued). A round arriving while a
    write is under way only joins the queue; the writer takes the whole queue in its next
    call. A request writes at most two batches, its own and the one that queued behind it;
    whatever is still queued then goes to a background writer, so no request waits behind
    a steady stream of others and no round is left unwritten. Either way, of a player's
    writes to one board that share a call only the newest is sent.
    """

    def __init__(self, app, linger=0.0, sleep=None):
        self.app = app
        self.linger = linger
        self._sleep = sleep  # None: time.sleep as it is when called (gevent patches it)
        self._lock = threading.Lock()
        self._pending = deque()
        self._idle = threading.Event()  # clear while a caller (or the background writer) writes
        self._idle.set()

    def add(self, writes):
        """Queue one round's writes; write the queue unless another caller is writing it."""
        with self._lock:
            self._pending.append(writes)
            if not self._idle.is_set():
                return
            self._idle.clear()
        if self.linger:
            self._continue_in_background()
        else:
            self._write_batches(limit=2)

    def _take(self):
        """Every queued round's writes, or None (and the queue released) when none is queued."""
        with self._lock:
            if not self._pending:
                self._idle.set()
                return None
            rounds = list(self._pending)
            self._pending.clear()
        newest = {}  # (metric, period, user) -> the write with the highest version
        for round_writes in rounds:
            for write in round_writes:
                slot = (write[0], write[1], write[3])
                if slot not in newest or write[4] >= newest[slot][4]:
                    newest[slot] = write
        return list(newest.values())

    def _write_batches(self, limit=None):
        written = 0
        while limit is None or written < limit:
            writes = self._take()
            if writes is None:
                return
            written += 1
            try:
                _score_and_mark(writes)
            except BaseException:
                self._continue_in_background()  # the rounds queued behind this batch
                raise
        self._continue_in_background()

    def _continue_in_background(self):
        # The queue stays claimed (not idle) for the background writer.
        threading.Thread(target=self._write_in_background, daemon=True, name="round-score-writer").start()

    def _write_in_background(self):
        with self.app.app_context():
            try:
                if self.linger:
                    self._write_lingering()
                else:
                    self._write_batches()
            except Exception as exc:  # the rounds are committed; only this batch's index writes are lost
                log.error("round_score_writer_failed", error=str(exc))

    def _write_lingering(self):
        while True:
            (self._sleep or time.sleep)(self.linger)
            writes = self._take()
            if writes is None:
                return
            try:
                _score_and_mark(writes)
            except Exception as exc:  # keep writing the rounds that follow
                log.error("round_score_writer_failed", error=str(exc))
            if self._release_if_empty():
                return  # the next round starts a writer of its own, which lingers first

    def _release_if_empty(self):
        with self._lock:
            if self._pending:
                return False
            self._idle.set()
            return True

    def wait_idle(self, timeout):
        """Block until every queued round is written (True), or `timeout` seconds pass (False)."""
        return self._idle.wait(timeout)


def _score_and_mark(writes):
    """Index `writes` and mark every board changed, in one script; announce the boards we now push."""
    changed = ALL_BOARDS
    windows = _redis_windows()
    owned = None
    if windows is not None:
        index_boards, index_args = leaderboard_index.arguments(writes)
        try:
            owned = windows.score_and_mark(index_boards, index_args, changed)
        except RedisError as exc:
            leaderboard_index.update_failed(index_boards, exc)
            log.warning("leaderboard_push_windows_unavailable", error=str(exc))
    if owned is None:
        owned = _memory().open_or_mark(changed)
    if owned:
        events.bus().publish(events.LEADERBOARD_PUSH_DUE, {"boards": owned})


def on_round_settled(name, payload):
    """Index the round's scores and mark every board changed (through the round score queue)."""
    current_app.extensions[_QUEUE].add(payload.get("leaderboard_scores", ()))


def flush(app, timeout=30):
    """Wait until every round settled in `app` is written to Redis; True if it was in time."""
    queue = app.extensions.get(_QUEUE)
    return queue is None or queue.wait_idle(timeout)


def init_app(app):
    """Subscribe to settled rounds; start with no window open in this process."""
    app.extensions[_MEMORY] = MemoryWindows()
    app.extensions[_QUEUE] = RoundScoreQueue(app, linger=app.config["LEADERBOARD_INDEX_LINGER_SECONDS"])
    with app.app_context():
        events.bus().subscribe(events.ROUND_SETTLED, on_round_settled)


def reset(app):
    """Close every in-process window (tests)."""
    app.extensions[_MEMORY] = MemoryWindows()
