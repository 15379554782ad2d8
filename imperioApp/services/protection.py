"""Responsible gaming: loss and wager limits, time-outs, self-exclusion and reality checks.

Enforcement has one call point: `check_stake`, which settlement calls for a stake once
the round's writes are made (the guarded balance UPDATE has taken the wallet row lock and
the stake's ledger rows exist), and only when that UPDATE returned the player's
`protection_active` flag. Players without limits, exclusions, a reality check or a
suspension pay nothing; a flagged player's check runs under the lock already held, so
concurrent bets cannot overshoot a limit, and a refusal raised there rolls the whole round
back. The usage sums leave out the ledger rows the round just wrote.

Periods are UTC calendar days, ISO weeks (from Monday) and months. Lowering or setting a
limit applies at once; raising or removing one applies LIMIT_RAISE_DELAY_HOURS later. A
time-out or self-exclusion starts at once and nothing the player can do ends it early.
"""

from calendar import monthrange
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import and_, case, delete, exists, func, insert, literal, or_, select, update

from ..models import (
    EXCLUSION_KINDS,
    LIMIT_KINDS,
    LIMIT_PERIODS,
    LedgerEntry,
    LimitChange,
    PlayerExclusion,
    PlayerLimit,
    RealityCheck,
    User,
)
from . import auth, events
from .errors import Conflict, Forbidden, ValidationFailed, require_choice
from .paging import keyset_page
from .unit_of_work import atomic

_users = User.__table__
_limits = PlayerLimit.__table__
_changes = LimitChange.__table__
_exclusions = PlayerExclusion.__table__
_checks = RealityCheck.__table__
_ledger = LedgerEntry.__table__

MAX_LIMIT = 2**53
PLAY_TYPES = ("bet", "win", "refund")
TIMEOUT_HOURS = (24, 6 * 7 * 24)
SELF_EXCLUSION_MONTHS = (6, 60)
NOTICE_INFO = "imperio.reality_check"


class LimitReached(Conflict):
    code = "limit_reached"


class Excluded(Forbidden):
    code = "self_excluded"


def clock():
    """The current time in UTC; tests replace it to cross the raise delay and period ends."""
    return datetime.now(timezone.utc)


# --- periods ---------------------------------------------------------------------------


def period_bounds(period, moment):
    """(start, end) of the UTC day, ISO week or month containing `moment`."""
    day = moment.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day, day + timedelta(days=1)
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    if period == "month":
        start = day.replace(day=1)
        return start, add_months(start, 1)
    raise ValueError(f"unknown period {period!r}")


def add_months(moment, months):
    """The same day and time `months` calendar months later (clamped to the month's last day)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))


# --- refusals shared by every path -------------------------------------------------------


def _active(now):
    """Exclusions in force at `now`."""
    return and_(_exclusions.c.starts_at <= now, or_(_exclusions.c.ends_at.is_(None), _exclusions.c.ends_at > now))


def _blocks(session, user_id, now):
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
    suspended, exclusion = _blocks(session, user_id, now)
    refuse_if_suspended(suspended)
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
    return auth.end_all_sessions(user_id, reason=reason)


def refuse_if_suspended(suspended_at):
    """Raise for an account an operator suspended (login, token refresh, every stake)."""
    if suspended_at is not None:
        raise Forbidden("this account is suspended by an operator", code="account_suspended")


def ensure_may_play(user_id):
    """Raise unless the player may bet, chat and sit at tables (not suspended, not excluded)."""
    with atomic() as session:
        _refuse_if_blocked(session, user_id, clock())


def blocked_clause(user_id, now):
    """A SQL condition true while the player is suspended or excluded (for one-statement guards)."""
    return or_(
        exists().where(_users.c.id == user_id, _users.c.suspended_at.is_not(None)),
        exists().where(_exclusions.c.user_id == user_id, _active(now)),
    )


# --- the settlement check ----------------------------------------------------------------


def _effective(row, now):
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


def _usage(session, user_id, periods, now, posted=None):
    """{period: (wagered, net)} of the player's play in each current period, before this stake."""
    starts = {period: period_bounds(period, now)[0] for period in periods}
    columns = []
    for start in starts.values():
        in_period = _ledger.c.created_at >= start
        columns.append(func.coalesce(func.sum(case((and_(in_period, _ledger.c.type == "bet"), -_ledger.c.amount), else_=0)), 0))
        columns.append(func.coalesce(func.sum(case((in_period, _ledger.c.amount), else_=0)), 0))
    row = session.execute(
        select(*columns).where(_earlier_play(user_id, posted), _ledger.c.created_at >= min(starts.values()))
    ).one()
    return {period: (int(row[2 * i]), int(row[2 * i + 1])) for i, period in enumerate(starts)}


def _check_limits(session, user_id, stake, now, posted):
    rows = session.execute(select(_limits).where(_limits.c.user_id == user_id)).all()
    enforced = [(row.kind, row.period, _effective(row, now)) for row in rows]
    enforced = [(kind, period, amount) for kind, period, amount in enforced if amount is not None]
    if enforced:
        usage = _usage(session, user_id, {period for _, period, _ in enforced}, now, posted)
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
        notice = _notice(user_id, started, now, int(net))
        session.info[NOTICE_INFO] = notice
        events.publish_after_commit("reality_check", {"user_id": user_id, **notice})
    return True


def _notice(user_id, started, now, net):
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
    stake = -sum(m.amount for m in movements if m.type == "bet")
    now = clock()
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
    from ..extensions import db

    if not db.session.registry.has():
        return None  # a request that opened no database session settled nothing
    return db.session().info.pop(NOTICE_INFO, None)


def _flag(session, user_id):
    session.execute(update(_users).where(_users.c.id == user_id).values(protection_active=True))


# --- the player's own settings ---------------------------------------------------------------


def validate_limit_amount(amount):
    """Raise unless `amount` is None (no limit) or a positive integer of coins."""
    if amount is None:
        return
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_LIMIT:
        raise ValidationFailed(f"amount must be null or an integer from 1 to {MAX_LIMIT}", code="invalid_amount")


def set_limit(user_id, kind, period, amount):
    """Set (amount) or remove (None) one limit; return it. Lower: at once; higher or removed: after the delay."""
    require_choice(kind, LIMIT_KINDS, what="limit kind", code="unknown_limit_kind", error=ValidationFailed)
    require_choice(period, LIMIT_PERIODS, what="limit period", code="unknown_limit_period", error=ValidationFailed)
    validate_limit_amount(amount)
    now = clock()
    key = (_limits.c.user_id == user_id) & (_limits.c.kind == kind) & (_limits.c.period == period)
    with atomic() as session:
        # The wallet row lock orders this change against the player's bets in flight.
        session.execute(select(_users.c.id).where(_users.c.id == user_id).with_for_update())
        row = session.execute(select(_limits).where(key)).one_or_none()
        current = _effective(row, now) if row is not None else None
        # Nothing to loosen when no limit is in force: removing "none" or setting a first limit is at once.
        tighter = current is None or (amount is not None and amount <= current)
        if tighter:
            values = {"amount": amount, "pending_amount": None, "pending_at": None}
            effective_at = now
        else:
            effective_at = now + timedelta(hours=current_app.config["LIMIT_RAISE_DELAY_HOURS"])
            values = {"amount": current, "pending_amount": amount, "pending_at": effective_at}
        if row is None:
            session.execute(insert(_limits).values(user_id=user_id, kind=kind, period=period, updated_at=now, **values))
        else:
            session.execute(update(_limits).where(key).values(updated_at=now, **values))
        session.execute(
            insert(_changes).values(
                user_id=user_id,
                kind=kind,
                period=period,
                previous=current,
                requested=amount,
                effective_at=effective_at,
                created_at=now,
            )
        )
        _flag(session, user_id)
    return next(item for item in limits(user_id, with_none=True) if item["kind"] == kind and item["period"] == period)


def limits(user_id, *, with_none=False):
    """Every limit the player has: in force now, pending, what the current period has used, when it resets.

    `with_none` also lists the kinds and periods set to no limit (a removal of a limit never set).
    """
    now = clock()
    with atomic() as session:
        rows = session.execute(select(_limits).where(_limits.c.user_id == user_id)).all()
        usage = _usage(session, user_id, {row.period for row in rows}, now) if rows else {}
    items = []
    for row in sorted(rows, key=lambda r: (LIMIT_KINDS.index(r.kind), LIMIT_PERIODS.index(r.period))):
        amount = _effective(row, now)
        pending = row.pending_at is not None and row.pending_at > now
        if amount is None and not pending and not with_none:
            continue
        wagered, net = usage[row.period]
        items.append(
            {
                "kind": row.kind,
                "period": row.period,
                "amount": amount,
                "used": wagered if row.kind == "wager" else max(0, -net),
                "resets_at": period_bounds(row.period, now)[1],
                "pending_amount": row.pending_amount if pending else None,
                "pending_at": row.pending_at if pending else None,
            }
        )
    return items


def limit_history(user_id, *, before=None, limit=50):
    """The player's requested limit changes, newest first; `before` is the cursor."""
    query = select(
        _changes.c.id,
        _changes.c.kind,
        _changes.c.period,
        _changes.c.previous,
        _changes.c.requested,
        _changes.c.effective_at,
        _changes.c.created_at,
    ).where(_changes.c.user_id == user_id)
    if before is not None:
        query = query.where(_changes.c.id < before)
    with atomic() as session:
        rows = session.execute(query.order_by(_changes.c.id.desc()).limit(limit + 1)).all()
    return keyset_page(rows, limit)


def _whole_number(value, low, high, field):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(f"{field} must be an integer from {low} to {high}", code=f"invalid_{field}")


def exclude(user_id, kind, *, hours=None, months=None, permanent=False):
    """Start a time-out (hours) or self-exclusion (months, or permanent) now; return its kind and end.

    Every socket of the player is disconnected once it commits; new ones may watch, not play.
    """
    require_choice(kind, EXCLUSION_KINDS, what="exclusion kind", code="unknown_exclusion_kind", error=ValidationFailed)
    now = clock()
    if kind == "timeout":
        _whole_number(hours, *TIMEOUT_HOURS, "hours")
        ends_at = now + timedelta(hours=hours)
    elif permanent is True:
        if months is not None:
            raise ValidationFailed("give months or permanent, not both", code="invalid_months")
        ends_at = None
    else:
        _whole_number(months, *SELF_EXCLUSION_MONTHS, "months")
        ends_at = add_months(now, months)
    with atomic() as session:
        session.execute(select(_users.c.id).where(_users.c.id == user_id).with_for_update())
        session.execute(insert(_exclusions).values(user_id=user_id, kind=kind, starts_at=now, ends_at=ends_at, created_at=now))
        _flag(session, user_id)
        exclusion = _blocks(session, user_id, now)[1]
        end_live_sessions(user_id, kind)
    return exclusion


def self_exclude(user_id, password, *, months=None, permanent=False, client_address=""):
    """Self-exclusion, confirmed by the player's current password (checked before anything is written)."""
    auth.confirm_password(user_id, password, client_address=client_address)
    return exclude(user_id, "self_exclusion", months=months, permanent=permanent)


def set_reality_check(user_id, minutes):
    """Set the reality-check interval in minutes, or turn it off (None)."""
    low, high = current_app.config["REALITY_CHECK_MINUTES_RANGE"]
    with atomic() as session:
        if minutes is None:
            session.execute(delete(_checks).where(_checks.c.user_id == user_id))
            return None
        _whole_number(minutes, low, high, "minutes")
        updated = session.execute(update(_checks).where(_checks.c.user_id == user_id).values(interval_minutes=minutes)).rowcount
        if not updated:
            session.execute(insert(_checks).values(user_id=user_id, interval_minutes=minutes))
        _flag(session, user_id)
    return minutes


def acknowledge_reality_check(user_id):
    """The player has seen the reality check: the next one is due an interval from now."""
    now = clock()
    with atomic() as session:
        row = session.execute(select(_checks).where(_checks.c.user_id == user_id)).one_or_none()
        if row is None:
            raise Conflict("no reality check is set", code="no_reality_check")
        due = now + timedelta(minutes=row.interval_minutes)
        session.execute(update(_checks).where(_checks.c.user_id == user_id).values(due_at=due))
    return {"next_check_at": due}


def _reality_status(session, user_id, now):
    row = session.execute(select(_checks).where(_checks.c.user_id == user_id)).one_or_none()
    if row is None:
        return None
    status = {"interval_minutes": row.interval_minutes, "next_check_at": row.due_at, "due": False, "notice": None}
    idle = timedelta(minutes=current_app.config["REALITY_CHECK_IDLE_MINUTES"])
    live = row.session_started_at is not None and row.last_bet_at is not None and now - row.last_bet_at <= idle
    if live and row.due_at is not None and now >= row.due_at:
        net = session.execute(
            select(func.coalesce(func.sum(_ledger.c.amount), 0)).where(
                _ledger.c.user_id == user_id,
                _ledger.c.type.in_(PLAY_TYPES),
                _ledger.c.created_at >= row.session_started_at,
            )
        ).scalar_one()
        status["due"] = True
        status["notice"] = _notice(user_id, row.session_started_at, now, int(net))
    return status


def status(user_id):
    """Everything protecting the player now: limits, exclusion, reality check, suspension."""
    now = clock()
    items = limits(user_id)
    with atomic() as session:
        suspended, exclusion = _blocks(session, user_id, now)
        reality = _reality_status(session, user_id, now)
    return {
        "limits": items,
        "exclusion": exclusion,
        "reality_check": reality,
        "suspended": suspended is not None,
        "may_play": exclusion is None and suspended is None,
    }
