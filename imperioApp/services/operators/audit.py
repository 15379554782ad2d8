"""The append-only record of what operators did (who may act as one: `accounts.require_admin`).

An action's audit row is written inside the action's own transaction: both commit or neither
does.
"""

from dataclasses import dataclass

from sqlalchemy import insert, select

from ...models import AdminAudit, User
from ...models.base import utcnow
from ..core.paging import keyset_page
from ..core.unit_of_work import atomic

_audit = AdminAudit.__table__
_users = User.__table__


@dataclass(frozen=True)
class Operator:
    """The admin performing an action, and the request (or CLI run) it came from."""

    admin_id: int
    request_id: str | None = None


def record(operator, action, *, target_user_id=None, reason=None, details=None):
    """Append one audit row to the caller's transaction; return its id."""
    with atomic() as session:
        return session.execute(
            insert(_audit).returning(_audit.c.id),
            {
                "admin_id": operator.admin_id,
                "action": action,
                "target_user_id": target_user_id,
                "reason": reason,
                "details": details,
                "request_id": operator.request_id,
                "created_at": utcnow(),
            },
        ).scalar_one()


def listing(*, admin_id=None, target_user_id=None, action=None, before=None, limit=50):
    """One page of the audit trail, newest first; `before` is the cursor (an audit id)."""
    admins = _users.alias("admins")
    targets = _users.alias("targets")
    query = (
        select(
            _audit.c.id,
            _audit.c.admin_id,
            admins.c.username.label("admin_username"),
            _audit.c.action,
            _audit.c.target_user_id,
            targets.c.username.label("target_username"),
            _audit.c.reason,
            _audit.c.details,
            _audit.c.request_id,
            _audit.c.created_at,
        )
        .join(admins, admins.c.id == _audit.c.admin_id)
        .outerjoin(targets, targets.c.id == _audit.c.target_user_id)
    )
    if admin_id is not None:
        query = query.where(_audit.c.admin_id == admin_id)
    if target_user_id is not None:
        query = query.where(_audit.c.target_user_id == target_user_id)
    if action:
        query = query.where(_audit.c.action == action)
    if before is not None:
        query = query.where(_audit.c.id < before)
    with atomic() as session:
        rows = session.execute(query.order_by(_audit.c.id.desc()).limit(limit + 1)).all()
    return keyset_page(rows, limit)
