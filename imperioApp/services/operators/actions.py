"""What operators do: find and inspect players, correct balances, lock accounts, moderate,
and watch the games' integrity.

Every action checks the operator's stored role first, then validates, then performs the
change and appends its audit row in one transaction: a refused or failed action writes
nothing, not even its audit row.
"""

from flask import current_app
from sqlalchemy import func, or_, select, update

from ... import metrics
from ...games import GAMES
from ...models import ROLES, ChatMessage, ChatSanction, GameRound, LedgerEntry, User
from ...models.base import utcnow
from ..core import lagging
from ..core.errors import Conflict, NotFound, ValidationFailed
from ..core.paging import check_period, keyset_page, newest_first
from ..core.unit_of_work import atomic
from ..engagement import leaderboards, statistics
from ..identity import accounts, login, sessions
from ..money import wallet
from ..money.wallet import Movement
from ..protection import enforcement, settings
from ..social import chat
from . import audit, ledger_checks, rollups

_users = User.__table__
_rounds = GameRound.__table__
_ledger = LedgerEntry.__table__
_sanctions = ChatSanction.__table__
_messages = ChatMessage.__table__

REASON_LENGTH = (3, 500)
# The operator role each account action needs (docs/operators.md#roles).
ACCOUNT_ACTION_ROLES = {
    "account_lock": "risk",
    "account_unlock": "risk",
    "sessions_end": "support",
    "lockout_reset": "support",
    "ranking_exclude": "risk",
    "ranking_include": "risk",
}
_PLAYER_COLUMNS = (
    _users.c.id,
    _users.c.username,
    _users.c.email,
    _users.c.role,
    _users.c.balance,
    _users.c.created_at,
    _users.c.last_login_at,
    _users.c.failed_logins,
    _users.c.locked_until,
    _users.c.suspended_at,
    _users.c.ranking_excluded,
)


def validate_reason(reason):
    """The trimmed reason; raise unless it is a string of 3-500 characters."""
    low, high = REASON_LENGTH
    if not isinstance(reason, str) or not low <= len(reason.strip()) <= high:
        raise ValidationFailed(f"a reason of {low}-{high} characters is required", code="reason_required")
    return reason.strip()


def _player_row(session, user_id):
    row = session.execute(select(*_PLAYER_COLUMNS).where(_users.c.id == user_id)).one_or_none()
    if row is None:
        raise NotFound("no such player", code="user_not_found")
    return row


def _lock_player(session, user_id):
    """Lock the player's row for the action (and check they exist)."""
    found = session.execute(select(_users.c.id).where(_users.c.id == user_id).with_for_update()).scalar_one_or_none()
    if found is None:
        raise NotFound("no such player", code="user_not_found")


# --- finding and inspecting ------------------------------------------------------------


def find_players(operator, query=None, *, before=None, limit=20):
    """Players whose username or email contains `query`, or whose id is it; newest first."""
    accounts.require_role(operator.admin_id, "support")
    statement = select(*_PLAYER_COLUMNS)
    if query:
        pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = [
            func.lower(_users.c.username).like(pattern, escape="\\"),
            _users.c.email.like(pattern, escape="\\"),
        ]
        if query.isdigit() and int(query) < 2**63:
            matches.append(_users.c.id == int(query))
        statement = statement.where(or_(*matches))
    if before is not None:
        statement = statement.where(_users.c.id < before)
    with atomic() as session:
        rows = session.execute(statement.order_by(_users.c.id.desc()).limit(limit + 1)).all()
    return keyset_page(rows, limit)


def player(operator, user_id):
    """Everything about one player: account, balance, protection and chat sanctions."""
    accounts.require_role(operator.admin_id, "support")
    with atomic() as session:
        row = _player_row(session, user_id)
    return {**dict(row._mapping), "protection": settings.status(user_id), "sanctions": sanctions(operator, user_id)}


def player_statistics(operator, user_id):
    """The player's statistics, as they see them."""
    accounts.require_role(operator.admin_id, "support")
    with atomic() as session:
        _player_row(session, user_id)
    return statistics.overview(user_id)


def sanctions(operator, user_id):
    """Every chat sanction the player ever had, newest first, with whether it is in force."""
    accounts.require_role(operator.admin_id, "support")
    now = utcnow()
    with atomic() as session:
        rows = session.execute(
            select(_sanctions.c.id, _sanctions.c.kind, _sanctions.c.expires_at, _sanctions.c.created_by, _sanctions.c.created_at)
            .where(_sanctions.c.user_id == user_id)
            .order_by(_sanctions.c.id.desc())
        ).all()
    return [{**dict(row._mapping), "active": row.expires_at is None or row.expires_at > now} for row in rows]


def player_sessions(operator, user_id):
    """The player's live login sessions (device, address, last use), newest first."""
    require_player(operator, user_id)
    return [row._asdict() for row in sessions.list_sessions(user_id)]


def require_player(operator, user_id):
    """Check the operator, and that the player exists (for reads served by other services)."""
    accounts.require_role(operator.admin_id, "support")
    with atomic() as session:
        _player_row(session, user_id)


# --- actions ---------------------------------------------------------------------------


def validate_adjustment(amount, reason):
    """The trimmed reason; raise unless `amount` is a non-zero integer within the balance ceiling."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise ValidationFailed("amount must be a non-zero integer number of coins", code="invalid_amount")
    wallet.validate_amount(abs(amount))
    return validate_reason(reason)


def post_adjustment(operator, user_id, amount, *, idempotency_key=None, details=None):
    """Write the adjustment's ledger row under the player's row lock, in the caller's transaction.

    Return (balance, transaction id); `details` go into the audit row the caller writes.
    """
    with atomic() as session:
        _lock_player(session, user_id)
        balance = wallet.post(user_id, [Movement("adjustment", amount)], idempotency_key=idempotency_key)
        entry = session.execute(
            select(_ledger.c.id).where(_ledger.c.user_id == user_id).order_by(_ledger.c.id.desc()).limit(1)
        ).scalar_one()
    return balance, entry


def adjust_balance(operator, user_id, amount, reason, *, idempotency_key=None):
    """Credit (amount > 0) or debit (amount < 0) a balance as a ledger `adjustment`; never below zero.

    No second approver is asked here: `adjustments.request` decides when one is needed.
    """
    accounts.require_role(operator.admin_id, "admin")
    reason = validate_adjustment(amount, reason)
    with atomic():
        balance, entry = post_adjustment(operator, user_id, amount, idempotency_key=idempotency_key)
        audit_id = audit.record(
            operator,
            "balance_adjustment",
            target_user_id=user_id,
            reason=reason,
            details={"amount": amount, "balance_after": balance, "transaction_id": entry},
        )
    return {"user_id": user_id, "amount": amount, "balance": balance, "transaction_id": entry, "audit_id": audit_id}


def _account_action(operator, user_id, action, reason, values=None, *, end_sessions=False, details=None):
    """`values(now)`: the player's columns to set, from the moment the action takes effect (under the row lock)."""
    accounts.require_role(operator.admin_id, ACCOUNT_ACTION_ROLES[action])
    reason = validate_reason(reason)
    with atomic() as session:
        _lock_player(session, user_id)
        if values:
            session.execute(update(_users).where(_users.c.id == user_id).values(**values(utcnow())))
        audit_id = audit.record(operator, action, target_user_id=user_id, reason=reason, details=details)
        if end_sessions:
            enforcement.end_live_sessions(user_id, action)
        row = _player_row(session, user_id)
    return {**dict(row._mapping), "audit_id": audit_id}


def lock_account(operator, user_id, reason):
    """Suspend the account: no login, no play, live sockets ended."""
    if user_id == operator.admin_id:
        raise ValidationFailed("you cannot lock your own account", code="invalid_target")
    return _account_action(
        operator,
        user_id,
        "account_lock",
        reason,
        lambda now: {"suspended_at": now, "protection_active": True},
        end_sessions=True,
    )


def unlock_account(operator, user_id, reason):
    """Lift an operator's suspension."""
    return _account_action(operator, user_id, "account_unlock", reason, lambda now: {"suspended_at": None})


def end_sessions(operator, user_id, reason):
    """End the player's live sessions: every socket is disconnected on every process."""
    return _account_action(operator, user_id, "sessions_end", reason, end_sessions=True)


def reset_lockout(operator, user_id, reason):
    """Clear the failed logins counted against the player's account, and the lockout they caused."""
    result = _account_action(operator, user_id, "lockout_reset", reason, lambda now: {"failed_logins": 0, "locked_until": None})
    login.clear_login_failures(user_id)
    return result


def lift_exclusion(operator, user_id, reason):
    """Lift the player's time-outs and self-exclusions made in error: those created within the cooling-off window.

    The only way an exclusion ends early. Each lifted one ends now (its row stays, with its
    original end in the audit row); an exclusion older than EXCLUSION_LIFT_WINDOW_HOURS is
    never lifted (409 nothing_to_lift when none can be).
    """
    accounts.require_role(operator.admin_id, "risk")
    reason = validate_reason(reason)
    with atomic() as session:
        _lock_player(session, user_id)
        lifted = settings.lift_recent_exclusions(user_id, current_app.config["EXCLUSION_LIFT_WINDOW_HOURS"])
        if not lifted:
            raise Conflict("the player has no exclusion in force made within the cooling-off window", code="nothing_to_lift")
        details = {
            "lifted": [{**item, "ends_at": _iso(item["ends_at"]), "created_at": _iso(item["created_at"])} for item in lifted]
        }
        audit_id = audit.record(operator, "exclusion_lift", target_user_id=user_id, reason=reason, details=details)
        row = _player_row(session, user_id)
    return {**dict(row._mapping), "audit_id": audit_id}


def exclude_from_rankings(operator, user_id, reason):
    """Leave the player out of leaderboards and tournament standings (and prizes) until included again."""
    return _ranking_exclusion(operator, user_id, reason, excluded=True)


def include_in_rankings(operator, user_id, reason):
    """Undo an exclusion from rankings: the player's scores show again."""
    return _ranking_exclusion(operator, user_id, reason, excluded=False)


def _ranking_exclusion(operator, user_id, reason, *, excluded):
    action = "ranking_exclude" if excluded else "ranking_include"
    accounts.require_role(operator.admin_id, ACCOUNT_ACTION_ROLES[action])
    with atomic() as session:
        _lock_player(session, user_id)
        if _player_excluded(session, user_id) == excluded:
            raise Conflict(
                "the player is already " + ("excluded from" if excluded else "in") + " the rankings", code="nothing_to_change"
            )
        result = _account_action(operator, user_id, action, reason, lambda now: {"ranking_excluded": excluded})
    # The Redis index follows: the player's entries off (or back on) the current boards.
    (leaderboards.exclude_from_index if excluded else leaderboards.include_in_index)(user_id)
    return result


def _player_excluded(session, user_id):
    return session.execute(select(_users.c.ranking_excluded).where(_users.c.id == user_id)).scalar_one()


def set_role(operator, user_id, role, reason):
    """Grant or remove an operator role (player removes every one); audited; never one's own."""
    accounts.require_role(operator.admin_id, "admin")
    if role not in ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
    if user_id == operator.admin_id:
        raise ValidationFailed("another admin must change your role", code="invalid_target")
    reason = validate_reason(reason)
    with atomic() as session:
        _lock_player(session, user_id)
        before = _player_row(session, user_id).role
        if before == role:
            raise Conflict(f"the account already has the role {role}", code="nothing_to_change")
        session.execute(update(_users).where(_users.c.id == user_id).values(role=role))
        audit_id = audit.record(
            operator, "role_change", target_user_id=user_id, reason=reason, details={"from": before, "to": role}
        )
        row = _player_row(session, user_id)
    return {**dict(row._mapping), "audit_id": audit_id}


def _iso(moment):
    return moment.isoformat() if moment is not None else None


def chat_sanction(operator, user_id, kind, minutes, reason):
    """Mute or ban the player in chat through the chat service the Socket.IO events use."""
    accounts.require_role(operator.admin_id, chat.SANCTION_ROLES[kind])
    reason = validate_reason(reason)
    with atomic() as session:
        username = _player_row(session, user_id).username
        result = chat.sanction(operator.admin_id, username, kind, minutes)
        expires_at = result["expires_at"]
        audit_id = audit.record(
            operator,
            f"chat_{kind}",
            target_user_id=user_id,
            reason=reason,
            details={"minutes": minutes, "expires_at": expires_at.isoformat() if expires_at else None},
        )
    return {**result, "audit_id": audit_id}


def chat_lift(operator, user_id, kind, reason):
    """Lift the player's chat mutes or bans."""
    accounts.require_role(operator.admin_id, chat.SANCTION_ROLES[kind])
    reason = validate_reason(reason)
    with atomic() as session:
        username = _player_row(session, user_id).username
        lifted = chat.lift(operator.admin_id, username, kind)
        audit_id = audit.record(operator, f"chat_un{kind}", target_user_id=user_id, reason=reason, details={"lifted": lifted})
    return {"user_id": user_id, "username": username, "kind": kind, "lifted": lifted, "audit_id": audit_id}


def chat_messages(operator, *, room=None, user_id=None, before=None, limit=50):
    """Stored chat messages, newest first, with their authors (filter by room or player)."""
    accounts.require_role(operator.admin_id, "support")
    query = select(
        _messages.c.id, _messages.c.room, _messages.c.user_id, _users.c.username, _messages.c.message, _messages.c.created_at
    ).join(_users, _users.c.id == _messages.c.user_id)
    if room:
        query = query.where(_messages.c.room == room)
    if user_id is not None:
        query = query.where(_messages.c.user_id == user_id)
    with atomic() as session:
        return newest_first(session, query, _messages.c.id, before=before, limit=limit)


# --- game integrity --------------------------------------------------------------------


def _settled_between(since, until):
    conditions = [_rounds.c.status == "settled"]
    if since is not None:
        conditions.append(_rounds.c.settled_at >= since)
    if until is not None:
        conditions.append(_rounds.c.settled_at < until)
    return conditions


def game_rtp(operator, since=None, until=None):
    """Per game: rounds settled, coins wagered and paid in [since, until), the RTP, and the published RTP."""
    accounts.require_role(operator.admin_id, "support")
    check_period(since, until)
    # Whole summarised hours from the rollup, the rest from the rounds (see rollups).
    rows = [(game, *figures) for game, figures in rollups.totals(since, until).items()]
    seen = {row[0]: row for row in rows}
    games = []
    for name, engine in GAMES.items():
        _, count, wagered, paid = seen.get(name, (name, 0, 0, 0))
        wagered, paid = int(wagered), int(paid)  # PostgreSQL sums BIGINTs as NUMERIC
        published = getattr(engine, "PUBLISHED_RTP", None)
        rtp = paid / wagered if wagered else None
        games.append(
            {
                "game_type": name,
                "rounds": int(count),
                "wagered": wagered,
                "paid": paid,
                "rtp": round(rtp, 6) if rtp is not None else None,
                "published_rtp": round(float(published), 6) if published is not None else None,
                "difference": round(rtp - float(published), 6) if rtp is not None and published is not None else None,
            }
        )
    return {"from": since, "to": until, "games": games}


def biggest_wins(operator, since=None, until=None, *, game_type=None, limit=20):
    """The settled rounds with the largest net wins in [since, until), largest first."""
    accounts.require_role(operator.admin_id, "support")
    check_period(since, until)
    net = (_rounds.c.payout - _rounds.c.bet).label("net")
    query = (
        select(
            _rounds.c.id.label("round_id"),
            _rounds.c.user_id,
            _users.c.username,
            _rounds.c.game_type,
            _rounds.c.bet,
            _rounds.c.payout,
            net,
            _rounds.c.settled_at,
        )
        .join(_users, _users.c.id == _rounds.c.user_id)
        .where(*_settled_between(since, until), _rounds.c.payout > _rounds.c.bet)
    )
    # The rollup names a few candidates; their details come from the rounds by id.
    candidates = rollups.biggest_win_ids(since, until, game_type, limit)
    query = query.where(_rounds.c.id.in_(candidates)).order_by(net.desc(), _rounds.c.id.desc()).limit(limit)
    rows = lagging.read(lambda connection: connection.execute(query).all())
    return [dict(row._mapping) for row in rows]


def check_ledger(operator):
    """Check balance == SUM(ledger) for every player now; audited; return the offenders."""
    accounts.require_role(operator.admin_id, "risk")
    sums = select(_ledger.c.user_id, func.sum(_ledger.c.amount).label("total")).group_by(_ledger.c.user_id).subquery()
    ledger_total = func.coalesce(sums.c.total, 0)
    with atomic() as session:
        checked = session.execute(select(func.count()).select_from(_users)).scalar_one()
        rows = session.execute(
            select(_users.c.id.label("user_id"), _users.c.username, _users.c.balance, ledger_total.label("ledger_sum"))
            .outerjoin(sums, sums.c.user_id == _users.c.id)
            .where(_users.c.balance != ledger_total)
            .order_by(_users.c.id)
        ).all()
        offenders = [{**dict(row._mapping), "ledger_sum": int(row.ledger_sum)} for row in rows]
        audit_id = audit.record(operator, "ledger_check", details={"players": checked, "offenders": len(offenders)})
    metrics.ledger_checked(len(offenders))
    return {"ok": not offenders, "players_checked": checked, "offenders": offenders, "audit_id": audit_id}


def check_ledger_since_checkpoint(operator):
    """The incremental check (ledger_checks): only the rows since each player's checkpoint; audited."""
    accounts.require_admin(operator.admin_id)
    with atomic():
        found = ledger_checks.check()
        details = {"players": found["players_checked"], "rows": found["rows_checked"], "offenders": len(found["offenders"])}
        found["audit_id"] = audit.record(operator, "ledger_check_incremental", details=details)
    return found
