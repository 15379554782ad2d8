"""Standings of a period (live while it runs, final once closed), a player's place, "around me" and results."""

from sqlalchemy import and_, func, or_, select

from ...models import TournamentEntry, User
from ..core.errors import Conflict, NotFound
from ..core.paging import window_offset
from ..core.unit_of_work import atomic
from ..identity import accounts
from . import tournaments

_entries = TournamentEntry.__table__
_users = User.__table__

# Best first: score, then whoever reached it first (time, then round), then the lower id.
_ORDER = (
    _entries.c.score.desc(),
    _entries.c.reached_at,
    func.coalesce(_entries.c.reached_round_id, 0),
    _entries.c.user_id,
)


def _ranked(period_id, min_rounds):
    return and_(
        _entries.c.period_id == period_id,
        _entries.c.rounds >= min_rounds,
        _entries.c.user_id.not_in(accounts.excluded_from_rankings()),
    )


def _rows(session, period_id, min_rounds, offset, limit):
    return session.execute(
        select(_entries.c.user_id, _users.c.username, _entries.c.score, _entries.c.rounds, _entries.c.prize)
        .join(_users, _users.c.id == _entries.c.user_id)
        .where(_ranked(period_id, min_rounds))
        .order_by(*_ORDER)
        .offset(offset)
        .limit(limit)
    ).all()


def _item(rank, row):
    return {"rank": rank, "user_id": row.user_id, "username": row.username, "score": row.score, "rounds": row.rounds}


def _context(session, tournament_id, number):
    definition = tournaments.definition_of(session, tournament_id)
    period = tournaments.period_for(session, tournament_id, number)
    return definition, period


def _header(definition, period):
    return {
        "tournament_id": definition["id"],
        "period": period["number"],
        "phase": tournaments.phase(period, tournaments.clock(), definition["status"]),
        "metric": definition["metric"],
    }


def page(tournament_id, *, number=None, cursor=None, limit=20):
    """One page of a period's standings, best first; `cursor` is the last rank of the previous page."""
    offset = cursor or 0
    with atomic() as session:
        definition, period = _context(session, tournament_id, number)
        rows = _rows(session, period["id"], definition["min_rounds"], offset, limit + 1)
    items = [_item(offset + n, row) for n, row in enumerate(rows[:limit], 1)]
    return {**_header(definition, period), "items": items, "next_cursor": offset + limit if len(rows) > limit else None}


def _rank_of(session, period_id, min_rounds, user_id):
    mine = session.execute(
        select(_entries.c.score, _entries.c.reached_at, _entries.c.reached_round_id, _entries.c.rounds).where(
            _entries.c.period_id == period_id, _entries.c.user_id == user_id
        )
    ).one_or_none()
    if mine is None:
        return None, None
    if mine.rounds < min_rounds:
        return mine, None
    round_ahead = func.coalesce(_entries.c.reached_round_id, 0)
    my_round = mine.reached_round_id or 0
    same_score = _entries.c.score == mine.score
    same_time = and_(same_score, _entries.c.reached_at == mine.reached_at)
    ahead = session.execute(
        select(func.count()).where(
            _ranked(period_id, min_rounds),
            or_(
                _entries.c.score > mine.score,
                and_(same_score, _entries.c.reached_at < mine.reached_at),
                and_(same_time, round_ahead < my_round),
                and_(same_time, round_ahead == my_round, _entries.c.user_id < user_id),
            ),
        )
    ).scalar_one()
    return mine, ahead + 1


def around(tournament_id, user_id, *, number=None, limit=11):
    """The `limit` places around the player's (theirs in the middle where it can be)."""
    with atomic() as session:
        definition, period = _context(session, tournament_id, number)
        mine, rank = _rank_of(session, period["id"], definition["min_rounds"], user_id)
        if mine is None:
            raise NotFound("you are not in this tournament", code="not_entered")
        if rank is None:
            return {**_header(definition, period), "rank": None, "items": [], "next_cursor": None}
        offset = window_offset(rank, limit)
        rows = _rows(session, period["id"], definition["min_rounds"], offset, limit)
    items = [_item(offset + n, row) for n, row in enumerate(rows, 1)]
    return {**_header(definition, period), "rank": rank, "items": items, "next_cursor": None}


def my_entry(tournament_id, user_id):
    """The player's entry in the current period {score, rank, rounds}, or None."""
    with atomic() as session:
        definition, period = _context(session, tournament_id, None)
        mine, rank = _rank_of(session, period["id"], definition["min_rounds"], user_id)
    if mine is None:
        return None
    return {"score": mine.score, "rank": rank, "rounds": mine.rounds}


def results(tournament_id, *, number=None):
    """A closed period's final standings with each prize, and its pool."""
    with atomic() as session:
        definition, period = _context(session, tournament_id, number)
        if period["status"] not in ("closing", "closed", "cancelled"):
            raise Conflict("this period has not closed yet", code="period_not_closed")
        rows = session.execute(
            select(
                _entries.c.rank,
                _entries.c.user_id,
                _users.c.username,
                _entries.c.score,
                _entries.c.rounds,
                _entries.c.prize,
                _entries.c.prize_paid_at,
            )
            .join(_users, _users.c.id == _entries.c.user_id)
            .where(_entries.c.period_id == period["id"], _entries.c.rank.is_not(None))
            .order_by(_entries.c.rank)
        ).all()
    return {
        **_header(definition, period),
        "pool": period["pool"] or 0,
        "closed_at": period["closed_at"],
        "items": [
            {
                "rank": row.rank,
                "user_id": row.user_id,
                "username": row.username,
                "score": row.score,
                "rounds": row.rounds,
                "prize": row.prize or 0,
                "paid": row.prize_paid_at is not None,
            }
            for row in rows
        ],
    }
