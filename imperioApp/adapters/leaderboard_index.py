"""The leaderboards' Redis read index: one sorted set per board, rebuilt from the database.

The database (`leaderboard_entries`) is the truth; this is a copy that answers rank
queries in O(log n). Keys, for a board (metric, period):

- `imperio:lb:{metric}:{period}`: sorted set, member = the user's id encoded so that
  Redis orders ties as the database does (see `member`), score = the board score;
- `...:v`: hash member -> version of the entry. The version is the player's all-time
  round count after the round that wrote it; every write is applied only if newer, so
  after-commit writes that reach Redis out of order, or a rebuild racing with rounds,
  can never put an older score back;
- `...:ready`: set once the board was loaded from the database. Without it (a fresh
  Redis, an evicted key, a board this process failed to update) reads go to the database
  and the board is rebuilt.

And one set for every board, `imperio:lb:excluded`: the members of players an operator left
out of the rankings. Every write skips them (a round they play never puts them back), so
ranks and pages read from the index count only the players the boards show. Excluding a
player removes their entries from the current boards and adds them to the set; including
them again removes them from it and writes their entries back; a rebuild brings the set in
line with the database first.

Scores are exact up to 2**53 coins (Redis scores are doubles).
"""

import time
import uuid

import structlog
from flask import current_app
from redis.exceptions import RedisError

from ..extensions import redis_store
from . import breaker
from .redis_lua import LuaScript

log = structlog.get_logger(__name__)
BREAKER = "leaderboard_index"

PREFIX = "imperio:lb:"
# Past daily and weekly boards are never read again; let Redis drop them.
TTL_SECONDS = {"daily": 3 * 86400, "weekly": 15 * 86400, "all_time": 0}
# A rebuild's lock outlives a rebuilder that died during it by at most this long.
LOCK_SECONDS = 120
REBUILD_CHUNK = 2000  # entries per script call: each blocks Redis for about 15 ms
_MEMBER_BASE = 10**19 - 1  # above every BIGINT id, so the encoding never goes negative
_STALE = "imperio.leaderboard_index.stale"
EXCLUDED = PREFIX + "excluded"

# apply(count, ttls, payloads) over KEYS[1..count]: one TTL and one payload per board, the
# payload being entries "member version score" separated by ";" (one string, so a rebuild
# of 100,000 entries is a few large arguments rather than 400,000 small ones). Applies each
# entry only if its version is newer than the stored one, and never one of an excluded
# player (the set is one key for every board, named in the script). Shared with the script that also
# marks push windows (services.board_pushes).
# A board's keys get their TTL when a call adds a member (ZADD and HSET count them), not on
# every write: the TTL outlasts the period (3 days for a day's board, 15 for a week's), so a
# current board never expires, and a round of a player already on the board costs no EXPIRE.
APPLY_FUNCTION = """
local function apply(count, ttls, payloads)
  local left_out = {}
  for i = 1, count do
    local key, versions = KEYS[i], KEYS[i] .. ':v'
    local joined, versioned = 0, 0
    for member, version, score in string.gmatch(payloads[i], '(%d+) (%d+) (-?%d+)') do
      if left_out[member] == nil then
        left_out[member] = redis.call('SISMEMBER', 'EXCLUDED_SET', member) == 1
      end
      if not left_out[member] then
        local seen = redis.call('HGET', versions, member)
        if not seen or tonumber(seen) < tonumber(version) then
          joined = joined + redis.call('ZADD', key, score, member)
          versioned = versioned + redis.call('HSET', versions, member, version)
        end
      end
    end
    local ttl = tonumber(ttls[i])
    if ttl > 0 then
      if joined > 0 then redis.call('EXPIRE', key, ttl) end
      if versioned > 0 then redis.call('EXPIRE', versions, ttl) end
    end
  end
end
""".replace("EXCLUDED_SET", EXCLUDED)
# KEYS: boards. ARGV: one TTL per board, then one payload per board.
_APPLY = LuaScript(
    APPLY_FUNCTION
    + """
local ttls, payloads = {}, {}
for i = 1, #KEYS do
  ttls[i] = ARGV[i]
  payloads[i] = ARGV[#KEYS + i]
end
apply(#KEYS, ttls, payloads)
return 1
"""
)


def client():
    """The Redis client, or None when the index is not in use (no REDIS_URL)."""
    return redis_store.client


def available():
    """True if the index is configured and has not just failed (see adapters.breaker)."""
    return redis_store.client is not None and not breaker.is_open(BREAKER)


def failed(exc, action):
    """Log a failure of the index and skip it for the breaker's cooldown."""
    breaker.trip(BREAKER)
    log.warning("leaderboard_index_unavailable", action=action, error=str(exc))


def key(metric, period):
    """The sorted set of one board."""
    return f"{PREFIX}{metric}:{period}"


def member(user_id):
    """The sorted-set member of a user: the inverted id, zero-padded."""
    # Redis reads equal scores high to low in reverse byte order of the member; inverting
    # the id makes that "lower user id first", the database's order.
    return f"{_MEMBER_BASE - user_id:019d}"


def user_of(member_name):
    """The user id a member encodes."""
    return _MEMBER_BASE - int(member_name)


def _entry(user_id, version, score):
    return f"{member(user_id)} {int(version)} {int(score)}"


def _stale_boards():
    return current_app.extensions.setdefault(_STALE, set())


def _forget_stale(pipe):
    """Queue the removal of ready markers of boards this process failed to update."""
    stale = _stale_boards()
    for board in stale:
        pipe.delete(board + ":ready")
    return set(stale)


def arguments(writes):
    """(boards, ARGV) applying [(metric, period, timeframe, user_id, version, score), ...]; ([], []) if none can go."""
    # On failure the boards lose their ready marker at the next successful call, so they
    # are read from the database and rebuilt rather than served stale.
    redis_client = client()
    if redis_client is None or not writes:
        return [], []
    ttls, payloads = {}, {}
    for metric, period, timeframe, user_id, version, score in writes:
        board = key(metric, period)
        ttls[board] = TTL_SECONDS[timeframe]
        payloads.setdefault(board, []).append(_entry(user_id, version, score))
    boards = list(ttls)
    if breaker.is_open(BREAKER):
        _stale_boards().update(boards)
        return [], []
    stale = set(_stale_boards())
    if stale:  # only after a failed update: one more round trip
        try:
            redis_client.delete(*(board + ":ready" for board in stale))
        except RedisError as exc:
            update_failed(boards, exc)
            return [], []
        _stale_boards().difference_update(stale)
    return boards, [ttls[board] for board in boards] + [";".join(payloads[board]) for board in boards]


def update_failed(boards, exc):
    """Remember boards whose update did not reach Redis (they are rebuilt before being read)."""
    _stale_boards().update(boards)
    breaker.trip(BREAKER)
    log.error("leaderboard_index_update_failed", boards=boards, error=str(exc))


def push(writes):
    """Apply index writes in one EVALSHA (settlement sends them with the push marks instead)."""
    boards, args = arguments(writes)
    if not boards:
        return
    try:
        # The script alone, not in a pipeline: a pipeline holding a script first asks
        # Redis whether the script is loaded, a second round trip.
        _APPLY(client(), boards, args)
    except RedisError as exc:
        update_failed(boards, exc)


def read_range(metric, period, offset, count):
    """[(user_id, score), ...] at ranks offset+1.. from the index; None if not ready."""
    redis_client = client()
    board = key(metric, period)
    pipe = redis_client.pipeline(transaction=False)
    cleared = _forget_stale(pipe)
    pipe.exists(board + ":ready")
    pipe.zrevrange(board, offset, offset + count - 1, withscores=True)
    *_, ready, entries = pipe.execute()
    _stale_boards().difference_update(cleared)
    if not ready:
        return None
    return [(user_of(name), int(score)) for name, score in entries]


def standings(boards, user_id):
    """{board key: (rank or None, score, [(user_id, score) just above, self, just below])} of ready boards."""
    # Two round trips whatever the board sizes; a board missing from the answer is not ready.
    redis_client = client()
    name = member(user_id)
    pipe = redis_client.pipeline(transaction=False)
    cleared = _forget_stale(pipe)
    for metric, period in boards:
        board = key(metric, period)
        pipe.exists(board + ":ready")
        pipe.zrevrank(board, name)
        pipe.zscore(board, name)
    answers = pipe.execute()[-3 * len(boards) :]
    _stale_boards().difference_update(cleared)
    found, around = {}, redis_client.pipeline(transaction=False)
    for index, (metric, period) in enumerate(boards):
        ready, rank, score = answers[3 * index : 3 * index + 3]
        if not ready:
            continue
        board = key(metric, period)
        found[board] = (None if rank is None else rank + 1, None if score is None else int(score))
        if rank is not None:
            around.zrevrange(board, max(rank - 1, 0), rank + 1, withscores=True)
    windows = iter(around.execute() if len(around) else ())
    result = {}
    for board, (rank, score) in found.items():
        window = [] if rank is None else [(user_of(n), int(s)) for n, s in next(windows)]
        result[board] = (rank, score, window)
    return result


def exclude(user_id, boards):
    """Leave a player out of the index: off the boards [(metric, period)], and out of every later write."""
    name = member(user_id)
    pipe = client().pipeline(transaction=True)
    pipe.sadd(EXCLUDED, name)
    for metric, period in boards:
        board = key(metric, period)
        pipe.zrem(board, name)
        pipe.hdel(board + ":v", name)
    pipe.execute()


def include(user_id, writes):
    """Let a player's writes in again, and apply `writes` (their current entries, as for `push`)."""
    client().srem(EXCLUDED, member(user_id))
    push(writes)


def reconcile_excluded(load_excluded):
    """Make the excluded set what the database says: `load_excluded()` -> the excluded players' ids."""
    # Read before the database: a player excluded meanwhile is in both reads, so is kept.
    held = {user_of(name) for name in client().smembers(EXCLUDED)}
    wanted = set(load_excluded())
    pipe = client().pipeline(transaction=True)
    if wanted - held:
        pipe.sadd(EXCLUDED, *(member(user_id) for user_id in wanted - held))
    if held - wanted:
        pipe.srem(EXCLUDED, *(member(user_id) for user_id in held - wanted))
    pipe.execute()


def rebuild(metric, period, timeframe, load_rows, wait=0.0):
    """Reload one board from `load_rows()` -> [(user_id, score, version)]; False if busy.

    Busy: another rebuild of the board holds its lock, and did not finish within `wait`
    seconds (a read does not wait; an operator's rebuild waits for the other one, then runs).
    """
    # Emptied before the database is read: every round committed before the read is in the
    # snapshot, and every later one is applied by its own, newer, write.
    redis_client = client()
    board = key(metric, period)
    token = uuid.uuid4().hex
    deadline = time.monotonic() + wait
    while not redis_client.set(board + ":lock", token, nx=True, ex=LOCK_SECONDS):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    try:
        redis_client.delete(board + ":ready", board, board + ":v")
        rows = load_rows()
        ttl = TTL_SECONDS[timeframe]
        for start in range(0, len(rows), REBUILD_CHUNK):
            chunk = rows[start : start + REBUILD_CHUNK]
            _APPLY(redis_client, [board], [ttl, ";".join(_entry(user_id, version, score) for user_id, score, version in chunk)])
        redis_client.set(board + ":ready", 1, ex=ttl or None)
        _stale_boards().discard(board)
        log.info("leaderboard_index_rebuilt", board=board, entries=len(rows))
        return True
    finally:
        if redis_client.get(board + ":lock") == token.encode():
            redis_client.delete(board + ":lock")
