"""Four eyes on money: adjustments a second admin must approve before the ledger moves.

An adjustment of more than ADJUSTMENT_APPROVAL_THRESHOLD coins (either way), or any to the
requesting admin's own account, is kept as a pending request (audited `adjustment_request`).
Another admin approves it (the ledger row is written then, exactly once: the request is
claimed by a conditional update under its row lock, so of two approvals one wins and the
other answers 409 `already_decided`) or rejects it; each decision is audited. The balance
rules (never below zero, the ceiling) apply at approval time, when the money moves.
"""

from flask import current_app
from sqlalchemy import insert, select, update

from ...models import PendingAdjustment, User
from ...models.base import utcnow
from ..core.errors import Conflict, Forbidden, NotFound
from ..core.paging import newest_first
from ..core.unit_of_work import atomic
from ..identity import accounts
from . import actions, audit

_pending = PendingAdjustment.__table__
_users = User.__table__
STATUSES = ("pending", "approved", "rejected")


def needs_approval(operator, user_id, amount):
    """True for an adjustment past the threshold, or to the requesting admin's own account."""
    return user_id == operator.admin_id or abs(amount) > current_app.config["ADJUSTMENT_APPROVAL_THRESHOLD"]


def request(operator, user_id, amount, reason, *, idempotency_key=None):
    """Adjust now ({"status": "applied", ...}) or keep the request for a second admin ({"status": "pending", ...})."""
    accounts.require_role(operator.admin_id, "admin")
    reason = actions.validate_adjustment(amount, reason)
    if not needs_approval(operator, user_id, amount):
        return {"status": "applied", **actions.adjust_balance(operator, user_id, amount, reason, idempotency_key=idempotency_key)}
    with atomic() as session:
        actions.require_player(operator, user_id)
        pending_id = session.execute(
            insert(_pending).returning(_pending.c.id),
            {"user_id": user_id, "amount": amount, "reason": reason, "requested_by": operator.admin_id, "requested_at": utcnow()},
        ).scalar_one()
        audit_id = audit.record(
            operator,
            "adjustment_request",
            target_user_id=user_id,
            reason=reason,
            details={"pending_id": pending_id, "amount": amount},
        )
    return {"status": "pending", "pending_id": pending_id, "user_id": user_id, "amount": amount, "audit_id": audit_id}


def _claim(session, operator, pending_id, status, reason):
    """Lock the pending request and decide it; raise unless it is pending and this admin may decide it."""
    row = session.execute(select(_pending).where(_pending.c.id == pending_id).with_for_update()).one_or_none()
    if row is None:
        raise NotFound("no such adjustment request", code="adjustment_not_found")
    if row.status != "pending":
        raise Conflict(f"the request was already {row.status}", code="already_decided")
    if operator.admin_id in (row.requested_by, row.user_id) and status == "approved":
        raise Forbidden("a second admin, not the requester or the player, must approve it", code="second_approver_required")
    # The condition makes a racing decision a no-op even where the lock is not a row lock (SQLite).
    claimed = session.execute(
        update(_pending)
        .where(_pending.c.id == pending_id, _pending.c.status == "pending")
        .values(status=status, decided_by=operator.admin_id, decided_at=utcnow(), decision_reason=reason)
    ).rowcount
    if claimed != 1:
        raise Conflict("the request was already decided", code="already_decided")
    return row


def approve(operator, pending_id, reason):
    """Approve another admin's request: the ledger row is written now, once; audited."""
    accounts.require_role(operator.admin_id, "admin")
    reason = actions.validate_reason(reason)
    with atomic() as session:
        row = _claim(session, operator, pending_id, "approved", reason)
        balance, entry = actions.post_adjustment(
            operator, row.user_id, row.amount, idempotency_key=f"adjustment-approval:{pending_id}"
        )
        session.execute(update(_pending).where(_pending.c.id == pending_id).values(transaction_id=entry))
        audit_id = audit.record(
            operator,
            "adjustment_approve",
            target_user_id=row.user_id,
            reason=reason,
            details={
                "pending_id": pending_id,
                "amount": row.amount,
                "requested_by": row.requested_by,
                "balance_after": balance,
                "transaction_id": entry,
            },
        )
    return {**detail(operator, pending_id), "balance": balance, "audit_id": audit_id}


def reject(operator, pending_id, reason):
    """Reject a pending request (the requester may withdraw their own); nothing moves; audited."""
    accounts.require_role(operator.admin_id, "admin")
    reason = actions.validate_reason(reason)
    with atomic() as session:
        row = _claim(session, operator, pending_id, "rejected", reason)
        audit_id = audit.record(
            operator,
            "adjustment_reject",
            target_user_id=row.user_id,
            reason=reason,
            details={"pending_id": pending_id, "amount": row.amount, "requested_by": row.requested_by},
        )
    return {**detail(operator, pending_id), "audit_id": audit_id}


def _listing_query():
    requesters, deciders, players = _users.alias("requesters"), _users.alias("deciders"), _users.alias("players")
    return (
        select(
            _pending,
            players.c.username.label("username"),
            requesters.c.username.label("requested_by_username"),
            deciders.c.username.label("decided_by_username"),
        )
        .join(players, players.c.id == _pending.c.user_id)
        .join(requesters, requesters.c.id == _pending.c.requested_by)
        .outerjoin(deciders, deciders.c.id == _pending.c.decided_by)
    )


def detail(operator, pending_id):
    """One adjustment request with who asked and who decided."""
    accounts.require_role(operator.admin_id, "admin")
    with atomic() as session:
        row = session.execute(_listing_query().where(_pending.c.id == pending_id)).one_or_none()
    if row is None:
        raise NotFound("no such adjustment request", code="adjustment_not_found")
    return dict(row._mapping)


def listing(operator, *, status=None, before=None, limit=50):
    """Adjustment requests, newest first (filter by status)."""
    accounts.require_role(operator.admin_id, "admin")
    query = _listing_query()
    if status:
        query = query.where(_pending.c.status == status)
    with atomic() as session:
        return newest_first(session, query, _pending.c.id, before=before, limit=limit)
