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
"""

from datetime import timezone

from redis.exceptions import RedisError
from sqlalchemy import BigInteger, and_, case, cast, func, literal, null, or_, select, union_all
from sqlalchemy.dialects import postgresql, sqlite

from ..models import ALL_GAMES, LEADERBOARD_METRICS, LeaderboardEntry, User, UserStats
from ..models.base import utcnow
from . import accounts, caching, leaderboard_index
from .errors import DomainError, ValidationFailed
from .unit_of_work import after_commit, atomic

METRICS = LEADERBOARD_METRICS
TIMEFRAMES = ("daily", "weekly", "all_time")
MAX_LIMIT = 100
MAX_DEPTH = 10_000  # pages reach down to this rank
CACHE_TTL = 1  # seconds: a settled round shows on a board within a second

_entries = LeaderboardEntry.__table__
_users = User.__table__
_stats = UserStats.__table__


def clock():
    """The current time in UTC; tests replace it to cross period boundaries."""
    return utcnow()


def period_key(timeframe, moment):
    """The period of `timeframe` that contains `moment` (UTC)."""
    moment = moment.astimezone(timezone.utc)
    if timeframe == "daily":
        return moment.strftime("%Y-%m-%d")
    if timeframe == "weekly":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    if timeframe == "all_time":
        return "all"
    raise ValueError(f"unknown timeframe {timeframe!r}")


def current_periods(moment=None):
    """{timeframe: period key} for now (or `moment`)."""
    moment = moment or clock()
    return {timeframe: period_key(timeframe, moment) for timeframe in TIMEFRAMES}


def validate_board(metric, timeframe):
    """Raise a 400 naming the valid values unless metric and timeframe are known."""
    if metric not in METRICS:
        raise DomainError(
            f"unknown metric {metric!r}; valid metrics: {', '.join(METRICS)}",
            code="invalid_metric",
            details={"valid": list(METRICS)},
        )
    if timeframe not in TIMEFRAMES:
        raise DomainError(
            f"unknown timeframe {timeframe!r}; valid timeframes: {', '.join(TIMEFRAMES)}",
            code="invalid_timeframe",
            details={"valid": list(TIMEFRAMES)},
        )


# --- settlement ------------------------------------------------------------------------


def _build_upsert(insert):
    statement = insert(_entries)
    old, new = _entries.c, statement.excluded
    best = case((new.score > old.score, new.score), else_=old.score)
    return statement.on_conflict_do_update(
        index_elements=[old.metric, old.period, old.user_id],
        set_={"score": case((old.metric == "biggest_win", best), else_=old.score + new.score)},
    ).returning(old.metric, old.period, old.score)


# Built once per dialect: this runs in every round.
_UPSERTS = {"postgresql": _build_upsert(postgresql.insert), "sqlite": _build_upsert(sqlite.insert)}


def record(result, *, now, version):
    """Score a settled round on every current board; the Redis index follows after commit.

    `version` orders this player's writes to the index (their all-time round count).
    """
    periods = current_periods(now)
    rows = []
    for period in periods.values():
        rows.append({"metric": "games_played", "period": period, "user_id": result.user_id, "score": 1})
        rows.append({"metric": "total_winnings", "period": period, "user_id": result.user_id, "score": result.net})
        if result.net > 0:
            rows.append({"metric": "biggest_win", "period": period, "user_id": result.user_id, "score": result.net})
    with atomic() as session:
        connection = session.connection()
        scores = connection.execute(_UPSERTS[connection.dialect.name], rows).all()
    if leaderboard_index.client() is not None:
        timeframe_of = {period: timeframe for timeframe, period in periods.items()}
        writes = [
            (row.metric, row.period, timeframe_of[row.period], result.user_id, version, row.score) for row in scores
        ]
        after_commit(lambda: leaderboard_index.push(writes))


# --- reads -----------------------------------------------------------------------------


def _names(user_ids):
    return accounts.usernames(user_ids) if user_ids else {}


def _entry(rank, user_id, username, score):
    return {"rank": rank, "user_id": user_id, "username": username, "score": score}


def _db_range(metric, period, offset, count):
    with atomic() as session:
        rows = session.execute(
            select(_entries.c.user_id, _users.c.username, _entries.c.score)
            .join(_users, _users.c.id == _entries.c.user_id)
            .where(_entries.c.metric == metric, _entries.c.period == period)
            .order_by(_entries.c.score.desc(), _entries.c.user_id)
            .offset(offset)
            .limit(count)
        ).all()
    return [tuple(row) for row in rows]


def _board_snapshot(metric, period):
    """Every entry of a board with its index version, for a rebuild."""
    with atomic() as session:
        rows = session.execute(
            select(_entries.c.user_id, _entries.c.score, func.coalesce(_stats.c.games_played, 0))
            .outerjoin(_stats, and_(_stats.c.user_id == _entries.c.user_id, _stats.c.game_type == ALL_GAMES))
            .where(_entries.c.metric == metric, _entries.c.period == period)
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
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be an integer from 1 to {MAX_LIMIT}", code="invalid_limit")
    if isinstance(cursor, bool) or not isinstance(cursor, int) or not 0 <= cursor < MAX_DEPTH:
        raise ValidationFailed(f"cursor must be an integer from 0 to {MAX_DEPTH - 1}", code="invalid_cursor")


def top(metric, timeframe, limit=10):
    """The current board's first `limit` entries: [{rank, user_id, username, score}].

    Never cached: the realtime layer calls it to broadcast a board that has just changed.
    """
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


# --- one player's standing -------------------------------------------------------------


def _ahead(metric, period, score, user_id):
    return and_(
        _entries.c.metric == metric,
        _entries.c.period == period,
        or_(_entries.c.score > score, and_(_entries.c.score == score, _entries.c.user_id < user_id)),
    )


def _behind(metric, period, score, user_id):
    return and_(
        _entries.c.metric == metric,
        _entries.c.period == period,
        or_(_entries.c.score < score, and_(_entries.c.score == score, _entries.c.user_id > user_id)),
    )


def _db_standings(boards, user_id, neighbours):
    """{(metric, period): (rank, score, above, below)} from the database in two queries."""
    with atomic() as session:
        mine = {
            (row.metric, row.period): row.score
            for row in session.execute(
                select(_entries.c.metric, _entries.c.period, _entries.c.score).where(
                    _entries.c.user_id == user_id, _entries.c.period.in_({period for _, period in boards})
                )
            )
        }
        parts = []
        present = [board for board in boards if board in mine]
        for index, (metric, period) in enumerate(present):
            score, none = mine[(metric, period)], cast(null(), BigInteger)
            parts.append(
                select(literal(index).label("board"), literal("rank").label("kind"),
                       func.count().label("value"), none.label("score")).where(_ahead(metric, period, score, user_id))
            )
            if neighbours:
                above = (
                    select(_entries.c.user_id, _entries.c.score)
                    .where(_ahead(metric, period, score, user_id))
                    .order_by(_entries.c.score, _entries.c.user_id.desc())
                    .limit(1)
                    .subquery()
                )
                below = (
                    select(_entries.c.user_id, _entries.c.score)
                    .where(_behind(metric, period, score, user_id))
                    .order_by(_entries.c.score.desc(), _entries.c.user_id)
                    .limit(1)
                    .subquery()
                )
                for kind, sub in (("above", above), ("below", below)):
                    parts.append(select(literal(index), literal(kind), sub.c.user_id, sub.c.score))
        answers = session.execute(union_all(*parts)).all() if parts else []
    found = {board: [None, mine[board], None, None] for board in present}
    for board_index, kind, value, score in answers:
        slot = found[present[board_index]]
        if kind == "rank":
            slot[0] = value + 1
        else:
            slot[2 if kind == "above" else 3] = (value, score)
    return {board: tuple(slot) for board, slot in found.items()}


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


def standing(user_id, *, neighbours=True):
    """The player's rank and score on every current board, with the entries just above and below."""
    periods = current_periods()
    boards = [(metric, periods[timeframe]) for timeframe in TIMEFRAMES for metric in METRICS]
    found = {}
    if leaderboard_index.available():
        try:
            found = _index_standings(boards, user_id)
        except RedisError as exc:
            leaderboard_index.failed(exc, "standing")
    missing = [board for board in boards if board not in found]
    if missing:
        found.update(_db_standings(missing, user_id, neighbours))
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


def rebuild_board(metric, timeframe, period):
    """Reload one board into the Redis index from the database; False if another process is at it."""
    return leaderboard_index.rebuild(metric, period, timeframe, lambda: _board_snapshot(metric, period))


def rebuild_index():
    """Reload every current board into the Redis index; [(metric, timeframe, period, rebuilt)]."""
    if leaderboard_index.client() is None:
        return []
    periods = current_periods()
    return [
        (metric, timeframe, periods[timeframe], rebuild_board(metric, timeframe, periods[timeframe]))
        for timeframe in TIMEFRAMES
        for metric in METRICS
    ]
