"""The player's own protection settings: limits, time-outs, self-exclusion, reality checks.

Lowering or setting a limit applies at once; raising or removing one applies
LIMIT_RAISE_DELAY_HOURS later. A time-out or self-exclusion starts at once and nothing the
player can do ends it early. `status` is everything protecting the player now; enforcing it
is `enforcement`'s.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, insert, or_, select, update

from ...models import (
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
from ..core.errors import Conflict, ValidationFailed, require_choice
from ..core.paging import keyset_page
from ..core.unit_of_work import atomic
from ..identity import login
from . import enforcement, periods
from .enforcement import PLAY_TYPES
from .periods import add_months, period_bounds

_users = User.__table__
_limits = PlayerLimit.__table__
_changes = LimitChange.__table__
_exclusions = PlayerExclusion.__table__
_checks = RealityCheck.__table__
_ledger = LedgerEntry.__table__

MAX_LIMIT = 2**53
TIMEOUT_HOURS = (24, 6 * 7 * 24)
SELF_EXCLUSION_MONTHS = (6, 60)


# --- the player's own settings ---------------------------------------------------------------


def lock_player(session, user_id):
    """Take the player's wallet row lock for the rest of the caller's transaction."""
    session.execute(select(_users.c.id).where(_users.c.id == user_id).with_for_update())


def validate_limit_amount(amount):
    """Raise unless `amount` is None (no limit) or a positive integer of coins."""
    if amount is None:
        return
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_LIMIT:
        raise ValidationFailed(f"amount must be null or an integer from 1 to {MAX_LIMIT}", code="invalid_amount")


def set_limit(user_id, kind, period, amount, *, password=None, client_address=None):
    """Set (amount) or remove (None) one limit; return it. Lower: at once; higher or removed: after the delay.

    Raising or removing a limit in force also needs the current `password` (403
    password_required / wrong_password): a stolen access token alone cannot loosen it.
    """
    require_choice(kind, LIMIT_KINDS, what="limit kind", code="unknown_limit_kind", error=ValidationFailed)
    require_choice(period, LIMIT_PERIODS, what="limit period", code="unknown_limit_period", error=ValidationFailed)
    validate_limit_amount(amount)
    # Checked before the row lock is taken (a password hash is slow); required below if the change loosens.
    confirmed = password is not None
    if confirmed:
        login.require_password(user_id, password, client_address=client_address, what="raising or removing a limit")
    key = (_limits.c.user_id == user_id) & (_limits.c.kind == kind) & (_limits.c.period == period)
    with atomic() as session:
        # The wallet row lock orders this change against the player's bets in flight; the
        # change is stamped under it.
        lock_player(session, user_id)
        now = periods.clock()
        row = session.execute(select(_limits).where(key)).one_or_none()
        current = enforcement.effective_amount(row, now) if row is not None else None
        # Nothing to loosen when no limit is in force: removing "none" or setting a first limit is at once.
        tighter = current is None or (amount is not None and amount <= current)
        if not tighter and not confirmed:
            login.require_password(user_id, None, client_address=client_address, what="raising or removing a limit")
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
        enforcement.flag_protected(session, user_id)
    return next(item for item in limits(user_id, with_none=True) if item["kind"] == kind and item["period"] == period)


def limits(user_id, *, with_none=False):
    """Every limit the player has: in force now, pending, what the current period has used, when it resets.

    `with_none` also lists the kinds and periods set to no limit (a removal of a limit never set).
    """
    now = periods.clock()
    with atomic() as session:
        rows = session.execute(select(_limits).where(_limits.c.user_id == user_id)).all()
        usage = enforcement.play_usage(session, user_id, {row.period for row in rows}, now) if rows else {}
    items = []
    for row in sorted(rows, key=lambda r: (LIMIT_KINDS.index(r.kind), LIMIT_PERIODS.index(r.period))):
        amount = enforcement.effective_amount(row, now)
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
    if kind == "timeout":
        _whole_number(hours, *TIMEOUT_HOURS, "hours")
    elif permanent is True:
        if months is not None:
            raise ValidationFailed("give months or permanent, not both", code="invalid_months")
    else:
        _whole_number(months, *SELF_EXCLUSION_MONTHS, "months")
    with atomic() as session:
        lock_player(session, user_id)
        # Stamped under the wallet row lock, the moment it takes effect: every bet committed
        # before it holds an earlier stamp, every bet after it is refused.
        now = periods.clock()
        if kind == "timeout":
            ends_at = now + timedelta(hours=hours)
        else:
            ends_at = None if permanent is True else add_months(now, months)
        session.execute(insert(_exclusions).values(user_id=user_id, kind=kind, starts_at=now, ends_at=ends_at, created_at=now))
        enforcement.flag_protected(session, user_id)
        exclusion = enforcement.blocks(session, user_id, now)[1]
        enforcement.end_live_sessions(user_id, kind)
    return exclusion


def self_exclude(user_id, password, *, months=None, permanent=False, client_address=""):
    """Self-exclusion, confirmed by the player's current password (checked before anything is written)."""
    login.require_password(user_id, password, client_address=client_address, what="self-exclusion")
    return exclude(user_id, "self_exclusion", months=months, permanent=permanent)


def lift_recent_exclusions(user_id, window_hours):
    """End now the player's exclusions in force or ahead that were created within `window_hours`; return them.

    For the operator's audited lift of an exclusion made in error (operators.actions), in its
    transaction under the player's row lock; nothing else ends an exclusion early.
    """
    with atomic() as session:
        lock_player(session, user_id)
        now = periods.clock()
        rows = session.execute(
            select(_exclusions.c.id, _exclusions.c.kind, _exclusions.c.ends_at, _exclusions.c.created_at).where(
                _exclusions.c.user_id == user_id,
                _exclusions.c.created_at > now - timedelta(hours=window_hours),
                or_(_exclusions.c.ends_at.is_(None), _exclusions.c.ends_at > now),
            )
        ).all()
        if rows:
            session.execute(update(_exclusions).where(_exclusions.c.id.in_([row.id for row in rows])).values(ends_at=now))
    return [dict(row._mapping) for row in rows]


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
        enforcement.flag_protected(session, user_id)
    return minutes


def acknowledge_reality_check(user_id):
    """The player has seen the reality check: the next one is due an interval from now."""
    now = periods.clock()
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
        status["notice"] = enforcement.reality_notice(user_id, row.session_started_at, now, int(net))
    return status


def status(user_id):
    """Everything protecting the player now: limits, exclusion, reality check, suspension."""
    now = periods.clock()
    items = limits(user_id)
    with atomic() as session:
        suspended, exclusion = enforcement.blocks(session, user_id, now)
        reality = _reality_status(session, user_id, now)
    return {
        "limits": items,
        "exclusion": exclusion,
        "reality_check": reality,
        "suspended": suspended is not None,
        "may_play": exclusion is None and suspended is None,
    }
