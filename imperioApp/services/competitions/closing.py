"""Closing a period exactly once, on any number of processes: final standings, prizes, refunds.

1. The claim: `UPDATE tournament_periods SET status = 'closing' WHERE id = ? AND status = 'open'
   AND <its end plus the grace has passed>`. Only one transaction anywhere can move the row out
   of 'open'; an end-now, the scheduled close and a cancel race on that row and one wins. In the
   same transaction the entries are made final (which waits for rounds scoring them, and stops
   any later round), the standings are recomputed from the rounds table and stored with each
   ranked entry's prize, the pool is stored, and a recurring tournament gets its next period.
2. The payments: each prize is paid in its own transaction that first claims its entry
   (`UPDATE ... SET prize_paid_at WHERE prize_paid_at IS NULL`) and writes a
   `tournament_prize` ledger row keyed `tournament:<id>:<period>:rank:<rank>`, which a partial
   unique index refuses twice. A process that dies mid-payout leaves the period 'closing';
   `close_due` (and any later close) resumes it and pays only the prizes still unpaid.
3. The finish: once no prize is unpaid the period becomes 'closed' and `tournament_closed` is
   published.

Prizes: ranked entrants (at least min_rounds rounds) share the pool by the payout shares of
their ranks; with fewer ranked entrants than shares, the shares present are scaled to the
whole pool. Each prize is floor(pool x share / shares present); the integer remainder goes to
rank 1, so prizes paid equal the pool. A pool from entry fees is the fees less the rake
(floor), raised to the guaranteed minimum by the house. If nobody is ranked, nothing is paid
and the entry fees are refunded.
"""

from sqlalchemy import and_, exists, insert, select, update

from ...models import TournamentEntry, TournamentPeriod, User
from ..core import events
from ..core.errors import Conflict
from ..core.unit_of_work import atomic
from ..engagement import notifications
from ..identity import accounts
from ..money import wallet
from . import entries, scoring, tournaments

_entries = TournamentEntry.__table__
_periods = TournamentPeriod.__table__
_users = User.__table__


def prize_key(tournament_id, period_id, rank):
    return f"tournament:{tournament_id}:{period_id}:rank:{rank}"


def pool_of(definition, fees):
    """The prize pool of a period that collected `fees`."""
    if definition["prize_mode"] == "fixed":
        return definition["prize_amount"]
    return max(fees - fees * definition["rake_percent"] // 100, definition["guaranteed_pool"])


def split_pool(pool, payouts, ranked):
    """The prizes of ranks 1..min(ranked, places): shares scaled to the pool, the remainder to rank 1."""
    shares = list(payouts[:ranked])
    if not shares or pool <= 0:
        return [0] * len(shares)
    total = sum(shares)
    prizes = [pool * share // total for share in shares]
    prizes[0] += pool - sum(prizes)
    return prizes


def close_period(period_id):
    """Close a due period (or resume one left closing); return its summary, or None if not due or not ours."""
    now = tournaments.clock()
    claimed = _claim_and_rank(period_id, now)
    with atomic() as session:
        period = session.execute(select(_periods).where(_periods.c.id == period_id)).one_or_none()
    if period is None or period.status != "closing":
        return claimed
    _pay_prizes(period)
    return _finish(period_id) or claimed


def _claim_and_rank(period_id, now):
    due = now - tournaments.close_grace()
    with atomic() as session:
        won = session.execute(
            update(_periods)
            .where(
                _periods.c.id == period_id,
                _periods.c.status == "open",
                _periods.c.ends_at.is_not(None),
                _periods.c.ends_at <= due,
            )
            .values(status="closing", closed_at=now)
        ).rowcount
        if not won:
            return None
        period = dict(session.execute(select(_periods).where(_periods.c.id == period_id)).one()._mapping)
        definition = tournaments.definition_of(session, period["tournament_id"])
        # Final first: waits for rounds scoring these entries and shuts out any later one.
        session.execute(update(_entries).where(_entries.c.period_id == period_id).values(final=True))
        scores = scoring.recompute(session, definition, period)
        # A player an operator excluded from rankings keeps their entry but takes no place or prize.
        excluded = set(session.execute(accounts.excluded_from_rankings().where(User.__table__.c.id.in_(list(scores)))).scalars())
        ranked = scoring.ranking({k: v for k, v in scores.items() if k not in excluded}, definition["min_rounds"])
        pool = pool_of(definition, period["fees"]) if ranked else 0
        prizes = split_pool(pool, definition["payouts"], len(ranked))
        places = {user_id: (rank, prizes[rank - 1] if rank <= len(prizes) else 0) for rank, (user_id, _) in enumerate(ranked, 1)}
        existing = set(session.execute(select(_entries.c.user_id).where(_entries.c.period_id == period_id)).scalars())
        for user_id, entry in scores.items():
            rank, prize = places.get(user_id, (None, None))
            values = {
                "score": entry["score"],
                "rounds": entry["rounds"],
                "reached_at": entry["reached_at"],
                "reached_round_id": entry["reached_round_id"],
                "rank": rank,
                "prize": prize,
                "final": True,
            }
            if user_id in existing:
                session.execute(
                    update(_entries).where(_entries.c.period_id == period_id, _entries.c.user_id == user_id).values(**values)
                )
            else:
                session.execute(
                    insert(_entries),
                    {
                        **values,
                        "period_id": period_id,
                        "tournament_id": period["tournament_id"],
                        "user_id": user_id,
                        "metric": definition["metric"],
                        "joined_at": entry["joined_at"],
                        "fee": 0,
                    },
                )
        session.execute(update(_periods).where(_periods.c.id == period_id).values(pool=pool))
        _open_next(session, definition, period)
    if not ranked:
        entries.refund_entries(period["tournament_id"], period_id)
    return {"tournament_id": period["tournament_id"], "period": period["number"], "pool": pool, "ranked": len(ranked)}


def _open_next(session, definition, period):
    if definition["status"] != "active":
        return
    # From the period's scheduled start: an end-now moved its end, not the schedule.
    bounds = tournaments.next_bounds(definition, period["number"], period["starts_at"], tournaments.clock())
    if bounds is not None:
        tournaments.open_period(session, definition["id"], definition, period["number"] + 1, bounds)


def _pay_prizes(period):
    with atomic() as session:
        title = session.execute(
            select(tournaments._tournaments.c.title).where(tournaments._tournaments.c.id == period.tournament_id)
        ).scalar_one()
        unpaid = session.execute(
            select(_entries.c.id, _entries.c.user_id, _entries.c.rank, _entries.c.prize)
            .where(_entries.c.period_id == period.id, _entries.c.prize > 0, _entries.c.prize_paid_at.is_(None))
            .order_by(_entries.c.rank)
        ).all()
    for entry in unpaid:
        pay_prize(period, entry, title)


def pay_prize(period, entry, title):
    """Pay one rank's prize in its own transaction, at most once (the entry claim and the keyed ledger row)."""
    with atomic() as session:
        claimed = session.execute(
            update(_entries)
            .where(_entries.c.id == entry.id, _entries.c.prize_paid_at.is_(None))
            .values(prize_paid_at=tournaments.clock())
        ).rowcount
        if not claimed:
            return False
        balance = wallet.credit(
            entry.user_id,
            entry.prize,
            type="tournament_prize",
            idempotency_key=prize_key(period.tournament_id, period.id, entry.rank),
        )
        notifications.create(
            entry.user_id,
            [
                (
                    "tournament_prize",
                    {
                        "tournament_id": period.tournament_id,
                        "title": title,
                        "period": period.number,
                        "rank": entry.rank,
                        "prize": entry.prize,
                        "balance": balance,
                    },
                )
            ],
        )
    return True


def _finish(period_id):
    with atomic() as session:
        done = session.execute(
            update(_periods)
            .where(
                _periods.c.id == period_id,
                _periods.c.status == "closing",
                ~exists().where(_entries.c.period_id == period_id, _entries.c.prize > 0, _entries.c.prize_paid_at.is_(None)),
            )
            .values(status="closed")
        ).rowcount
        if not done:
            return None
        period = session.execute(select(_periods).where(_periods.c.id == period_id)).one()
        _clear_competing(session)
        events.publish_after_commit(
            events.TOURNAMENT_CLOSED,
            {"tournament_id": period.tournament_id, "period_id": period.id, "period": period.number, "pool": period.pool},
        )
    return {"tournament_id": period.tournament_id, "period": period.number, "pool": period.pool, "closed": True}


def _clear_competing(session):
    """Players with no entry in an open period, while no race every player is in is open, stop paying for scoring."""
    open_entry = exists().where(
        _entries.c.user_id == _users.c.id,
        _entries.c.period_id == _periods.c.id,
        _periods.c.status == "open",
    )
    open_race = exists().where(and_(_periods.c.status == "open", _periods.c.open_to_all))
    if session.execute(select(open_race)).scalar():
        return
    session.execute(update(_users).where(_users.c.competing, ~open_entry).values(competing=False))


def close_due():
    """Close every period whose end (plus the grace) passed, resume half-paid closes and refunds; return summaries."""
    now = tournaments.clock()
    due = now - tournaments.close_grace()
    with atomic() as session:
        ids = (
            session.execute(
                select(_periods.c.id)
                .where(
                    (_periods.c.status == "closing")
                    | ((_periods.c.status == "open") & _periods.c.ends_at.is_not(None) & (_periods.c.ends_at <= due))
                )
                .order_by(_periods.c.id)
            )
            .scalars()
            .all()
        )
        cancelled = session.execute(
            select(_periods.c.tournament_id, _periods.c.id).where(
                _periods.c.status == "cancelled",
                exists().where(_entries.c.period_id == _periods.c.id, _entries.c.fee > 0, _entries.c.refunded_at.is_(None)),
            )
        ).all()
    results = [summary for summary in (close_period(period_id) for period_id in ids) if summary]
    for tournament_id, period_id in cancelled:
        entries.refund_entries(tournament_id, period_id)
    return results


def end_now(tournament_id):
    """End the running period now (in the caller's transaction); return the period. Close it with `close_period`."""
    now = tournaments.clock()
    with atomic() as session:
        definition = tournaments.definition_of(session, tournament_id)
        period = tournaments.period_for(session, tournament_id)
        if definition["status"] != "active" or period["status"] != "open" or period["starts_at"] > now:
            raise tournaments.TournamentClosed("only a running tournament can be ended")
        if period["ends_at"] is None or period["ends_at"] > now:
            session.execute(
                update(_periods).where(_periods.c.id == period["id"], _periods.c.status == "open").values(ends_at=now)
            )
    return period


def cancel(tournament_id):
    """Cancel the tournament (in the caller's transaction): its open period ends without prizes.

    Return the period; its fees are refunded by `entries.refund_entries` after the commit (and
    by `close_due` if a process died before).
    """
    with atomic() as session:
        definition = tournaments.definition_of(session, tournament_id, lock=True)
        if definition["status"] == "cancelled":
            raise Conflict("this tournament is already cancelled", code="tournament_cancelled")
        period = tournaments.period_for(session, tournament_id)
        moved = session.execute(
            update(_periods).where(_periods.c.id == period["id"], _periods.c.status == "open").values(status="cancelled")
        ).rowcount
        if not moved:
            raise tournaments.TournamentClosed("this tournament's period is already closing or closed")
        session.execute(
            update(tournaments._tournaments)
            .where(tournaments._tournaments.c.id == tournament_id)
            .values(status="cancelled", updated_at=tournaments.clock())
        )
        session.execute(update(_entries).where(_entries.c.period_id == period["id"]).values(final=True))
        _clear_competing(session)
        events.publish_after_commit(
            events.TOURNAMENT_CLOSED,
            {"tournament_id": tournament_id, "period_id": period["id"], "period": period["number"], "pool": 0},
        )
    return period
