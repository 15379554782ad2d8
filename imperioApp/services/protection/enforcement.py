"""Enforcement of responsible gaming: the refusals shared by every path and the settlement check.

Enforcement has one call point for stakes: `check_stake`, which settlement calls for a stake
once the round's writes are made (the guarded balance UPDATE has taken the wallet row lock and
the stake's ledger rows exist), and only when that UPDATE returned the player's
`protection_active` flag. Players without limits, exclusions, a reality check or a
suspension pay nothing; a flagged player's check runs under the lock already held, so
concurrent bets cannot overshoot a limit, and a refusal raised there rolls the whole round
back. The usage sums leave out the ledger rows the round just wrote. Chat and tables ask
`ensure_may_play`; one-statement guards use `blocked_clause`.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, case, exists, func, literal, or_, select, update

from ...models import LIMIT_PERIODS, LedgerEntry, PlayerExclusion, PlayerLimit, RealityCheck, User
from ..core import events
from ..core.errors import Conflict, Forbidden
from ..core.unit_of_work import atomic
from ..identity import accounts, sessions
from . import periods
from .periods import period_bounds

_users = User.__table__
_limits = PlayerLimit.__table__
_exclusions = PlayerExclusion.__table__
_checks = RealityCheck.__table__
_ledger = LedgerEntry.__table__

PLAY_TYPES = ("bet", "win", "refund", "tournament_fee", "tournament_refund", "tournament_prize")
# What counts as staked against wager and loss limits: bets and tournament entry fees.
STAKE_TYPES = ("bet", "tournament_fee")
NOTICE_INFO = "imperio.reality_check"


class LimitReached(Conflict):
    code = "limit_reached"


class Excluded(Forbidden):
    code = "self_excluded"


# --- refusals shared by every path -------------------------------------------------------


def _active(now):
    """Exclusions in force at `now`."""
    return and_(_exclusions.c.starts_at <= now, or_(_exclusions.c.ends_at.is_(None), _exclusions.c.ends_at > now))


def blocks(session, user_id, now):
    """(suspended_at, the longest exclusion in force or None), in one statement."""
    rows = session.execute(
        select(_users.c.suspended_at, _exclusions.c.kind, _exclusions.c.ends_at)
        .select_from(_users.outerjoin(_exclusions, and_(_exclusions.c.user_id == _users.c.id, _active(now))))
        .where(_users.c.id == user_id)
    ).all()
    if not rows:
        return None, None
    in_force = [row for row in rows if row.kind is not None]
    if not in_force:
        return rows[0].suspended_at, None
    # The longest wins; NULL (for good) outlasts any date.
    longest = max(in_force, key=lambda row: (row.ends_at is None, row.ends_at or now))
    return rows[0].suspended_at, {"kind": longest.kind, "until": longest.ends_at}


def _refuse_if_blocked(session, user_id, now):
    suspended, exclusion = blocks(session, user_id, now)
    accounts.refuse_if_suspended(suspended)
    if exclusion is not None:
        until = exclusion["until"]
        what = "taking a break" if exclusion["kind"] == "timeout" else "self-excluded"
        raise Excluded(
            f"you are {what} {'until ' + until.isoformat() if until else 'permanently'}: no betting, chat or tables",
            code="timed_out" if exclusion["kind"] == "timeout" else "self_excluded",
            details={"kind": exclusion["kind"], "until": until.isoformat() if until else None},
        )


def end_live_sessions(user_id, reason):
    """End every session of the player in the caller's transaction: tokens and game tokens die, sockets disconnect."""
    return sessions.end_all_sessions(user_id, reason=reason)


def ensure_may_play(user_id):
    """Raise unless the player may bet, chat and sit at tables (not suspended, not excluded)."""
    with atomic() as session:
        _refuse_if_blocked(session, user_id, periods.clock())


def blocked_clause(user_id, now):
    """A SQL condition true while the player is suspended or excluded (for one-statement guards)."""
    return or_(
        exists().where(_users.c.id == user_id, _users.c.suspended_at.is_not(None)),
        exists().where(_exclusions.c.user_id == user_id, _active(now)),
    )


# --- the settlement check ----------------------------------------------------------------


def effective_amount(row, now):
    """The amount a limit row enforces at `now` (a due pending change has taken over)."""
    if row.pending_at is not None and row.pending_at <= now:
        return row.pending_amount
    return row.amount


def _earlier_play(user_id, posted):
    """The player's play ledger rows, without those the current step wrote (`posted`: round id, stamp)."""
    condition = and_(_ledger.c.user_id == user_id, _ledger.c.type.in_(PLAY_TYPES))
    if posted is None:
        return condition
    round_id, posted_at = posted
    return and_(condition, or_(_ledger.c.round_id.is_distinct_from(round_id), _ledger.c.created_at != posted_at))


def play_usage(session, user_id, periods, now, posted=None):
    """{period: (wagered, net)} of the player's play in each current period, before this stake."""
    starts = {period: period_bounds(period, now)[0] for period in periods}
    columns = []
    for start in starts.values():
        in_period = _ledger.c.created_at >= start
        columns.append(
            func.coalesce(func.sum(case((and_(in_period, _ledger.c.type.in_(STAKE_TYPES)), -_ledger.c.amount), else_=0)), 0)
        )
        columns.append(func.coalesce(func.sum(case((in_period, _ledger.c.amount), else_=0)), 0))
    row = session.execute(
        select(*columns).where(_earlier_play(user_id, posted), _ledger.c.created_at >= min(starts.values()))
    ).one()
    return {period: (int(row[2 * i]), int(row[2 * i + 1])) for i, period in enumerate(starts)}


def _check_limits(session, user_id, stake, now, posted):
    rows = session.execute(select(_limits).where(_limits.c.user_id == user_id)).all()
    enforced = [(row.kind, row.period, effective_amount(row, now)) for row in rows]
    enforced = [(kind, period, amount) for kind, period, amount in enforced if amount is not None]
    if enforced:
        usage = play_usage(session, user_id, {period for _, period, _ in enforced}, now, posted)
        for kind, period, amount in sorted(enforced, key=lambda item: (LIMIT_PERIODS.index(item[1]), item[0])):
            wagered, net = usage[period]
            used = wagered if kind == "wager" else max(0, -net)
            # A loss limit counts the stake as if it were lost: the refusal cannot depend on the outcome.
            after = wagered + stake if kind == "wager" else stake - net
            if after > amount:
                resets_at = period_bounds(period, now)[1]
                raise LimitReached(
                    f"this bet would pass your {period} {kind} limit of {amount} coins "
                    f"({used} used); it resets at {resets_at.isoformat()}",
                    details={
                        "kind": kind,
                        "period": period,
                        "limit": amount,
                        "used": used,
                        "stake": stake,
                        "resets_at": resets_at.isoformat(),
                    },
                )
    # Still relevant while a limit is in force or a change of one is waiting.
    return bool(enforced) or any(row.pending_at is not None and row.pending_at > now for row in rows)


def _reality_check(session, user_id, movements, now, posted):
    row = session.execute(select(_checks).where(_checks.c.user_id == user_id)).one_or_none()
    if row is None:
        return False
    interval = timedelta(minutes=row.interval_minutes)
    idle = timedelta(minutes=current_app.config["REALITY_CHECK_IDLE_MINUTES"])
    started, due = row.session_started_at, row.due_at
    if started is None or row.last_bet_at is None or now - row.last_bet_at > idle:
        # A new play session: the clock starts with its first stake.
        started, due = now, now + interval
    session.execute(
        update(_checks).where(_checks.c.user_id == user_id).values(session_started_at=started, due_at=due, last_bet_at=now)
    )
    if due is not None and now >= due:
        net = session.execute(
            select(func.coalesce(func.sum(_ledger.c.amount), 0)).where(
                _earlier_play(user_id, posted), _ledger.c.created_at >= started
            )
        ).scalar_one()
        net += sum(m.amount for m in movements if m.type in PLAY_TYPES)
        notice = reality_notice(user_id, started, now, int(net))
        session.info[NOTICE_INFO] = notice
        events.publish_after_commit(events.REALITY_CHECK, {"user_id": user_id, **notice})
    return True


def reality_notice(user_id, started, now, net):
    return {
        "session_started_at": started.isoformat(),
        "elapsed_seconds": int((now - started).total_seconds()),
        "net": net,
        "acknowledge": "POST /protection/reality-check/acknowledge",
    }


def check_stake(user_id, movements, *, round_id, posted_at):
    """Refuse a stake a suspension, exclusion or limit forbids; time the reality check.

    Called by settlement for flagged players, inside the round's transaction and under the
    wallet row lock the balance UPDATE took, after `movements` were written as ledger rows
    of `round_id` stamped `posted_at` (left out of the usage); a refusal rolls the round back.
    """
    posted = (round_id, posted_at)
    stake = -sum(m.amount for m in movements if m.type in STAKE_TYPES)
    now = periods.clock()
    with atomic() as session:
        _refuse_if_blocked(session, user_id, now)
        has_limits = _check_limits(session, user_id, stake, now, posted)
        has_check = _reality_check(session, user_id, movements, now, posted)
        if not (has_limits or has_check or _has_exclusion_ahead(session, user_id, now)):
            # Nothing applies any more: stop paying for this check.
            session.execute(update(_users).where(_users.c.id == user_id).values(protection_active=False))


def _has_exclusion_ahead(session, user_id, now):
    return (
        session.execute(
            select(literal(1))
            .where(_exclusions.c.user_id == user_id, or_(_exclusions.c.ends_at.is_(None), _exclusions.c.ends_at > now))
            .limit(1)
        ).first()
        is not None
    )


def take_notice():
    """The reality-check notice the current request's settlement produced, if any (once)."""
    from ...extensions import db

    if not db.session.registry.has():
        return None  # a request that opened no database session settled nothing
    return db.session().info.pop(NOTICE_INFO, None)


def flag_protected(session, user_id):
    session.execute(update(_users).where(_users.c.id == user_id).values(protection_active=True))
