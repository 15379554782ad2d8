"""The push windows' own state: in one process's memory, or shared by every process in Redis.

A board's window key (its pusher holds it) and dirty key (changes arrived meanwhile) live in
Redis with a safety TTL, changed only by Lua scripts; `score_and_mark` also applies a batch
of leaderboard index writes in the same script. `board_pushes` decides which store serves.
"""

import threading

from ...adapters import leaderboard_index
from ...adapters.redis_lua import LuaScript
from . import leaderboards

KEY_PREFIX = "imperio:lbpush:"

# Every board a round can change: (metric, timeframe).
ALL_BOARDS = tuple((metric, timeframe) for metric in leaderboards.METRICS for timeframe in leaderboards.TIMEFRAMES)


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


# KEYS = window1, dirty1, window2, dirty2, ... from `first`; returns owned indexes (1-based).
OPEN_OR_MARK_FUNCTION = """
local function open_or_mark(first, safety_ms)
  local owned = {}
  for i = first, #KEYS, 2 do
    if redis.call('SET', KEYS[i], '1', 'NX', 'PX', safety_ms) then
      table.insert(owned, (i - first) / 2 + 1)
    else
      redis.call('SET', KEYS[i + 1], '1', 'PX', safety_ms)
    end
  end
  return owned
end
"""
_OPEN_OR_MARK = LuaScript(OPEN_OR_MARK_FUNCTION + "return open_or_mark(1, ARGV[1])")

# KEYS = index boards (ARGV[1] of them), then window pairs. ARGV = count, safety ms, the
# index TTLs and payloads (see leaderboard_index). The index write and the marks in one trip.
_SCORE_AND_MARK = LuaScript(
    leaderboard_index.APPLY_FUNCTION
    + OPEN_OR_MARK_FUNCTION
    + """
local count = tonumber(ARGV[1])
local ttls, payloads = {}, {}
for i = 1, count do
  ttls[i] = ARGV[2 + i]
  payloads[i] = ARGV[2 + count + i]
end
apply(count, ttls, payloads)
return open_or_mark(count + 1, ARGV[2])
"""
)

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
    def keys(board):
        """The window key and the dirty key of a board."""
        base = KEY_PREFIX + ":".join(board)
        return [base, base + ":dirty"]

    @classmethod
    def keys_of(cls, boards):
        """The window and dirty keys of boards, in order (every board's, built once)."""
        if boards == ALL_BOARDS:
            return _ALL_KEYS
        return [key for board in boards for key in cls.keys(board)]

    def open_or_mark(self, boards):
        owned = _OPEN_OR_MARK(self.client, self.keys_of(boards), [self.safety_ms])
        return [boards[int(index) - 1] for index in owned]

    def score_and_mark(self, index_boards, index_args, boards):
        """Apply index writes (leaderboard_index.arguments) and mark boards, in one script."""
        keys = index_boards + self.keys_of(boards)
        owned = _SCORE_AND_MARK(self.client, keys, [len(index_boards), self.safety_ms, *index_args])
        return [boards[int(index) - 1] for index in owned]

    def begin(self, board):
        _BEGIN(self.client, self.keys(board), [self.safety_ms])

    def finish(self, board):
        return bool(_FINISH(self.client, self.keys(board), [self.safety_ms]))


_ALL_KEYS = [key for board in ALL_BOARDS for key in RedisWindows.keys(board)]
