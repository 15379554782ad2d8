"""Leaderboards: metrics x timeframes, scored in each round's transaction.

Boards are (metric, period). Metrics: `total_winnings` (net coins won, may be negative),
`biggest_win` (largest net win of one round; only winning rounds enter it),
`games_played`. Periods are keys of the UTC calendar: daily '2026-11-27', weekly (ISO
week) '2026-W48', all-time 'all'; a round scores on the boards of the period it settles
in, so a new day or week starts from an empty board with no job to reset anything.

Order: score descending, then lower user id first (the earlier account), in the
database and in the Redis index alike, so ranks and pages are deterministic.

`leaderboard_entries` is the truth, written by one multi-row upsert per round. With Redis
configured, `leaderboard_index` is the read index, updated after commit; reads fall back
to the database whenever the index is unavailable or not loaded.

Players an operator excluded from rankings keep their entries (so including them again
restores their scores) but no board shows them: database reads leave them out, the index is
rebuilt without them when the exclusion is set, and an index page drops any that a later
round of theirs wrote back (`_names`). A player's own standing still counts them.
"""

from datetime import datetime, timezone
from functools import lru_cache

from redis.exceptions import RedisError
from sqlalchemy import BigInteger, and_, case, cast, func, literal, null, select, tuple_, union_all

from ...adapters import caching, leaderboard_index, upserts
from ...games.numbers import is_integer
from ...models import ALL_GAMES, LEADERBOARD_METRICS, LeaderboardEntry, User, UserStats
from ...models.base import utcnow
from ..core import lagging
from ..core.errors import ValidationFailed, require_choice
from ..core.paging import window_offset
from ..core.unit_of_work import atomic
from ..identity import accounts

METRICS = LEADERBOARD_METRICS
TIMEFRAMES = ("daily", "weekly", "all_time")
MAX_LIMIT = 100
MAX_DEPTH = 10_000  # pages reach down to this rank
CACHE_TTL = 1  # seconds: a settled round shows on a board within a second
ALL_TIME_PERIOD = "all"

_entries = LeaderboardEntry.__table__
_users = User.__table__
_stats = UserStats.__table__


def clock():
    """The current time in UTC; tests replace it to cross period boundaries."""
    return utcnow()


def period_key(timeframe, moment):
    """The period of `timeframe` that contains `moment` (UTC)."""
    if timeframe == "all_time":
        return ALL_TIME_PERIOD
    moment = moment.astimezone(timezone.utc)
    if timeframe == "daily":
        return moment.strftime("%Y-%m-%d")
    if timeframe == "weekly":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    raise ValueError(f"unknown timeframe {timeframe!r}")


def current_periods(moment=None):
    """{timeframe: period key} for now (or `moment`)."""
    return dict(_periods_on(_utc_day(moment or clock())))


def _utc_day(moment):
    return (moment if moment.tzinfo is timezone.utc else moment.astimezone(timezone.utc)).date()


# Every round asks for the current periods twice; they change once a day. The cached
# dicts are shared: read them, never change them.
@lru_cache(maxsize=16)
def _periods_on(day):
    """{timeframe: period key} of a UTC calendar day."""
    midday = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)
    return {timeframe: period_key(timeframe, midday) for timeframe in TIMEFRAMES}


@lru_cache(maxsize=16)
def _timeframes_on(day):
    """{period key: timeframe} of a UTC calendar day."""
    return {period: timeframe for timeframe, period in _periods_on(day).items()}


def validate_board(metric, timeframe):
    """Raise a 400 naming the valid values unless metric and timeframe are known."""
    require_choice(metric, METRICS, what="metric", code="invalid_metric")
    require_choice(timeframe, TIMEFRAMES, what="timeframe", code="invalid_timeframe")


# --- settlement ------------------------------------------------------------------------


def _on_conflict(old, new):
    best = case((new.score > old.score, new.score), else_=old.score)
    return {"score": case((old.metric == "biggest_win", best), else_=old.score + new.score)}


def _upsert(metrics):
    """The upsert of one round's entries on `metrics`, on the boards of every timeframe."""
    period = {timeframe: upserts.param(_entries, "period", timeframe) for timeframe in ("daily", "weekly")}
    period["all_time"] = upserts.constant(_entries, "period", ALL_TIME_PERIOD)
    score = {
        "games_played": upserts.constant(_entries, "score", 1),
        "total_winnings": upserts.param(_entries, "score", "net"),
        "biggest_win": upserts.param(_entries, "score", "net"),
    }
    return upserts.Upsert(
        _entries,
        rows=[
            {
                "metric": upserts.constant(_entries, "metric", metric),
                "period": period[timeframe],
                "user_id": upserts.param(_entries, "user_id"),
                "score": score[metric],
            }
            for timeframe in TIMEFRAMES
            for metric in metrics
        ],
        conflict=("metric", "period", "user_id"),
        set_=_on_conflict,
        returning=(_entries.c.metric, _entries.c.period, _entries.c.score),
    )


# Every round scores games_played and total_winnings on the three current boards; a
# winning round biggest_win as well: one statement, four parameters, either way.
_LOSING, _WINNING = _upsert(("games_played", "total_winnings")), _upsert(METRICS)


def upsert_for(winning):
    """The upsert of a winning (True) or losing round's entries."""
    return _WINNING if winning else _LOSING


def upsert_params(result, *, now):
    """The parameters of the round's upsert."""
    periods = _periods_on(_utc_day(now))
    return {"user_id": result.user_id, "net": result.net, "daily": periods["daily"], "weekly": periods["weekly"]}


def record(result, *, now, version):
    """Score a settled round on every current board; return the Redis index writes for after commit."""
    with atomic() as session:
        scores = upsert_for(result.net > 0).execute(session.connection(), upsert_params(result, now=now))
    return index_writes(result, scores, now=now, version=version)


def index_writes(result, scores, *, now, version):
    """The Redis index writes of the upserted scores (rows of metric, period, score); [] without Redis."""
    # `version` (the player's all-time round count) orders their writes to the index.
    if leaderboard_index.client() is None:
        return []
    timeframe_of = _timeframes_on(_utc_day(now))
    return [(row.metric, row.period, timeframe_of[row.period], result.user_id, version, row.score) for row in scores]


# --- reads -----------------------------------------------------------------------------


def _names(user_ids):
    # Players excluded from rankings have no name here, so an index page leaves them out.
    return accounts.ranked_usernames(user_ids) if user_ids else {}


def _entry(rank, user_id, username, score):
    return {"rank": rank, "user_id": user_id, "username": username, "score": score}


def _db_range(metric, period, offset, count):
    # The page is cut from the rank index first, so only its rows are joined to users.
    page = (
        select(_entries.c.user_id, _entries.c.score)
        .where(
            _entries.c.metric == metric,
            _entries.c.period == period,
            _entries.c.user_id.not_in(accounts.excluded_from_rankings()),
        )
        .order_by(_entries.c.score.desc(), _entries.c.user_id)
        .offset(offset)
        .limit(count)
        .subquery()
    )
    query = (
        select(page.c.user_id, _users.c.username, page.c.score)
        .join(_users, _users.c.id == page.c.user_id)
        .order_by(page.c.score.desc(), page.c.user_id)
    )
    rows = lagging.read(lambda connection: connection.execute(query).all())
    return [tuple(row) for row in rows]


def _board_snapshot(metric, period):
    """Every entry of a board with its index version, for a rebuild."""
    with atomic() as session:
        rows = session.execute(
            select(_entries.c.user_id, _entries.c.score, func.coalesce(_stats.c.games_played, 0))
            .outerjoin(_stats, and_(_stats.c.user_id == _entries.c.user_id, _stats.c.game_type == ALL_GAMES))
            .where(
                _entries.c.metric == metric,
                _entries.c.period == period,
                _entries.c.user_id.not_in(accounts.excluded_from_rankings()),
            )
        ).all()
    return [tuple(row) for row in rows]


def _range(metric, timeframe, period, offset, count):
    """[(user_id, username, score)] at ranks offset+1..offset+count, from the index if it can."""
    if leaderboard_index.available():
        try:
            entries = leaderboard_index.read_range(metric, period, offset, count)
            if entries is None and rebuild_board(metric, timeframe, period):
                entries = leaderboard_index.read_range(metric, period, offset, count)
            if entries is not None:
                names = _names([user_id for user_id, _ in entries])
                return [(user_id, names[user_id], score) for user_id, score in entries if user_id in names]
        except RedisError as exc:
            leaderboard_index.failed(exc, "read")
    return _db_range(metric, period, offset, count)


def _check_page(limit, cursor):
    if not is_integer(limit, 1, MAX_LIMIT):
        raise ValidationFailed(f"limit must be an integer from 1 to {MAX_LIMIT}", code="invalid_limit")
    if not is_integer(cursor, 0, MAX_DEPTH - 1):
        raise ValidationFailed(f"cursor must be an integer from 0 to {MAX_DEPTH - 1}", code="invalid_cursor")


def top(metric, timeframe, limit=10):
    """The current board's first `limit` entries: [{rank, user_id, username, score}]."""
    # Never cached: the realtime layer calls it to broadcast a board that has just changed.
    validate_board(metric, timeframe)
    _check_page(limit, 0)
    period = period_key(timeframe, clock())
    return [_entry(rank, *row) for rank, row in enumerate(_range(metric, timeframe, period, 0, limit), start=1)]


def page(metric, timeframe, *, limit=10, cursor=0):
    """One page of the current board; `cursor` is the number of entries already seen."""
    validate_board(metric, timeframe)
    _check_page(limit, cursor)
    period = period_key(timeframe, clock())

    def compute():
        rows = _range(metric, timeframe, period, cursor, limit + 1)
        items = [_entry(rank, *row) for rank, row in enumerate(rows[:limit], start=cursor + 1)]
        more = len(rows) > limit and cursor + limit < MAX_DEPTH
        return {
            "metric": metric,
            "timeframe": timeframe,
            "period": period,
            "items": items,
            "next_cursor": cursor + limit if more else None,
        }

    key = f"leaderboard:{metric}:{period}:{limit}:{cursor}"
    return caching.remember(key, caching.ttl("LEADERBOARD_CACHE_TTL", CACHE_TTL), compute)


def around(metric, timeframe, user_id, *, limit=10):
    """The `limit` places of the current board around the player's (theirs in the middle where it can be).

    `rank` is the player's, or null (and no items) if they are not on the board.
    """
    validate_board(metric, timeframe)
    _check_page(limit, 0)
    period = period_key(timeframe, clock())
    rank = _find_standings([(metric, period)], user_id, False).get((metric, period), (None,))[0]
    items = []
    if rank is not None:
        offset = window_offset(rank, limit)
        rows = _range(metric, timeframe, period, offset, limit)
        items = [_entry(place, *row) for place, row in enumerate(rows, start=offset + 1)]
    return {"metric": metric, "timeframe": timeframe, "period": period, "rank": rank, "items": items, "next_cursor": None}


# --- one player's standing -------------------------------------------------------------


def _standing_parts(index, metric, period, score, user_id, neighbours):
    """The selects that place one player on one board, each an index range on the rank index.

    Everything ahead is (score > s) plus (score = s, lower id): two ranges, counted apart
    because an OR of them would scan the whole board. Each neighbour is the first entry of
    a range (the tie group first, then the next score), so it costs one index probe.
    """
    c = _entries.c
    board = (c.metric == metric) & (c.period == period) & c.user_id.not_in(accounts.excluded_from_rankings())
    higher, tied_ahead = board & (c.score > score), board & (c.score == score) & (c.user_id < user_id)
    lower, tied_behind = board & (c.score < score), board & (c.score == score) & (c.user_id > user_id)
    none = cast(null(), BigInteger)
    parts = [
        select(
            literal(index).label("board"), literal(kind).label("kind"), func.count().label("value"), none.label("score")
        ).where(condition)
        for kind, condition in (("higher", higher), ("tied_ahead", tied_ahead))
    ]
    if neighbours:
        probes = (
            ("tie_above", tied_ahead, (c.user_id.desc(),)),
            ("above", higher, (c.score, c.user_id.desc())),
            ("tie_below", tied_behind, (c.user_id,)),
            ("below", lower, (c.score.desc(), c.user_id)),
        )
        for kind, condition, order in probes:
            first = select(c.user_id, c.score).where(condition).order_by(*order).limit(1).subquery()
            parts.append(select(literal(index), literal(kind), first.c.user_id, first.c.score))
    return parts


def _db_standing_rows(connection, boards, user_id, neighbours):
    """The player's scores on `boards` and the probes that place them, in two queries."""
    mine = {
        (row.metric, row.period): row.score
        for row in connection.execute(
            select(_entries.c.metric, _entries.c.period, _entries.c.score).where(
                tuple_(_entries.c.metric, _entries.c.period).in_(boards),
                _entries.c.user_id == user_id,
                _entries.c.user_id.not_in(accounts.excluded_from_rankings()),
            )
        )
    }
    present = [board for board in boards if board in mine]
    parts = [
        part
        for index, (metric, period) in enumerate(present)
        for part in _standing_parts(index, metric, period, mine[(metric, period)], user_id, neighbours)
    ]
    return mine, connection.execute(union_all(*parts)).all() if parts else []


def _db_standings(boards, user_id, neighbours):
    """{(metric, period): (rank, score, above, below)} from the database in two queries (a replica may answer)."""
    mine, answers = lagging.read(lambda connection: _db_standing_rows(connection, boards, user_id, neighbours), own=user_id)
    present = [board for board in boards if board in mine]
    found = {board: {} for board in present}
    for board_index, kind, value, score in answers:
        found[present[board_index]][kind] = value if score is None else (value, score)
    return {
        board: (
            parts["higher"] + parts["tied_ahead"] + 1,
            mine[board],
            parts.get("tie_above") or parts.get("above"),
            parts.get("tie_below") or parts.get("below"),
        )
        for board, parts in found.items()
    }


def _index_standings(boards, user_id):
    """Like _db_standings, for the boards the index has loaded."""
    answers = leaderboard_index.standings(boards, user_id)
    result = {}
    for metric, period in boards:
        answer = answers.get(leaderboard_index.key(metric, period))
        if answer is None:
            continue
        rank, score, window = answer
        above = below = None
        if rank is not None:
            position = min(rank - 1, 1)  # the window starts one rank above, or at the top
            above = window[position - 1] if position > 0 else None
            below = window[position + 1] if position + 1 < len(window) else None
        result[(metric, period)] = (rank, score, above, below)
    return result


def _find_standings(boards, user_id, neighbours):
    """{(metric, period): (rank, score, above, below)} from the index where loaded, else the database."""
    found = {}
    if leaderboard_index.available():
        try:
            found = _index_standings(boards, user_id)
        except RedisError as exc:
            leaderboard_index.failed(exc, "standing")
    missing = [board for board in boards if board not in found]
    if missing:
        found.update(_db_standings(missing, user_id, neighbours))
    return found


def standing(user_id, *, neighbours=True):
    """The player's rank and score on every current board, with the entries just above and below."""
    periods = current_periods()
    boards = [(metric, periods[timeframe]) for timeframe in TIMEFRAMES for metric in METRICS]
    found = _find_standings(boards, user_id, neighbours)
    names = _names({entry[0] for rank, score, *around in found.values() for entry in around if entry}) if neighbours else {}

    def neighbour(entry, rank):
        return None if entry is None else _entry(rank, entry[0], names.get(entry[0]), entry[1])

    standings = []
    for timeframe in TIMEFRAMES:
        for metric in METRICS:
            period = periods[timeframe]
            rank, score, above, below = found.get((metric, period), (None, None, None, None))
            item = {"metric": metric, "timeframe": timeframe, "period": period, "rank": rank, "score": score}
            if neighbours:
                item["above"] = neighbour(above, rank - 1) if rank else None
                item["below"] = neighbour(below, rank + 1) if rank else None
            standings.append(item)
    return standings


# --- the index -------------------------------------------------------------------------


def _excluded_ids():
    with atomic() as session:
        return session.execute(accounts.excluded_from_rankings()).scalars().all()


def rebuild_board(metric, timeframe, period, wait=0.0):
    """Reload one board into the Redis index from the database; False if another process is at it (past `wait` s)."""
    leaderboard_index.reconcile_excluded(_excluded_ids)
    return leaderboard_index.rebuild(metric, period, timeframe, lambda: _board_snapshot(metric, period), wait=wait)


def _current_boards():
    periods = current_periods()
    return [(metric, timeframe, periods[timeframe]) for timeframe in TIMEFRAMES for metric in METRICS]


def exclude_from_index(user_id):
    """Take a player just excluded from rankings off the Redis index's current boards (the database already leaves them out)."""
    if leaderboard_index.client() is None:
        return
    boards = [(metric, period) for metric, _, period in _current_boards()]
    try:
        leaderboard_index.exclude(user_id, boards)
    except RedisError as exc:  # the boards are rebuilt from the database before their next read
        leaderboard_index.update_failed([leaderboard_index.key(*board) for board in boards], exc)


def include_in_index(user_id):
    """Put a player just included again back on the Redis index's current boards, with their entries as stored."""
    if leaderboard_index.client() is None:
        return
    boards = _current_boards()
    timeframe_of = {period: timeframe for _, timeframe, period in boards}
    with atomic() as session:
        version = session.execute(
            select(_stats.c.games_played).where(_stats.c.user_id == user_id, _stats.c.game_type == ALL_GAMES)
        ).scalar()
        rows = session.execute(
            select(_entries.c.metric, _entries.c.period, _entries.c.score).where(
                _entries.c.user_id == user_id,
                tuple_(_entries.c.metric, _entries.c.period).in_([(metric, period) for metric, _, period in boards]),
            )
        ).all()
    writes = [(row.metric, row.period, timeframe_of[row.period], user_id, version or 0, row.score) for row in rows]
    try:
        leaderboard_index.include(user_id, writes)
    except RedisError as exc:
        leaderboard_index.update_failed([leaderboard_index.key(metric, period) for metric, _, period in boards], exc)


def rebuild_index(wait_for_others=False):
    """Reload every current board into the Redis index; [(metric, timeframe, period, rebuilt)].

    `wait_for_others`: a board another process is rebuilding (a read's, after a Redis
    restart) is rebuilt again once that one is done, rather than skipped.
    """
    if leaderboard_index.client() is None:
        return []
    wait = leaderboard_index.LOCK_SECONDS + 10 if wait_for_others else 0.0
    return [
        (metric, timeframe, period, rebuild_board(metric, timeframe, period, wait=wait))
        for metric, timeframe, period in _current_boards()
    ]
