"""The append-only record of what operators did (who may act as one: `accounts.require_admin`).

An action's audit row is written inside the action's own transaction: both commit or neither
does.

The trail is tamper-evident: each row carries `row_hash`, SHA-256 over the previous row's
hash (in id order; the first row follows GENESIS) and the row's own content, so `verify`
(`flask admin audit-verify`) finds any row deleted, altered or moved. Rows are appended one
at a time (a transaction-scoped advisory lock on PostgreSQL; SQLite's writer lock), so the
chain order is the id order. Migration 0010 chained the rows that existed before it with the
same formula (`row_hash` below; a migration keeps its own copy, as it must run unchanged).
The runtime database role may only INSERT and SELECT here (docs/operations.md); the chain
catches what a role with more rights could still do.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timezone

from sqlalchemy import insert, select, text

from ... import json_codec
from ...adapters import driver
from ...models import AdminAudit, User
from ...models.base import utcnow
from ..core.paging import newest_first
from ..core.unit_of_work import atomic

_audit = AdminAudit.__table__
_users = User.__table__

GENESIS = "0" * 64
_CHAIN_LOCK = 0x1A0D17  # the advisory lock key that orders appends on PostgreSQL
_CHAINED = ("admin_id", "action", "target_user_id", "reason", "details", "request_id", "created_at")


def row_hash(previous, row):
    """The chain hash of `row` (a mapping of the _CHAINED columns) after a row hashed `previous`."""
    values = {name: row[name] for name in _CHAINED}
    values["created_at"] = values["created_at"].astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    payload = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{previous}\n{payload}".encode()).hexdigest()


@dataclass(frozen=True)
class Operator:
    """The admin performing an action, and the request (or CLI run) it came from."""

    admin_id: int
    request_id: str | None = None


def record(operator, action, *, target_user_id=None, reason=None, details=None):
    """Append one audit row, chained to the last, to the caller's transaction; return its id."""
    with atomic() as session:
        if driver.dialect_of(session) == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
        previous = session.execute(select(_audit.c.row_hash).order_by(_audit.c.id.desc()).limit(1)).scalar()
        row = {
            "admin_id": operator.admin_id,
            "action": action,
            "target_user_id": target_user_id,
            "reason": reason,
            # As the JSON column gives it back, so the hash verifies against the stored row.
            "details": None if details is None else json_codec.loads(json_codec.dumps(details)),
            "request_id": operator.request_id,
            "created_at": utcnow(),
        }
        row["row_hash"] = row_hash(previous or GENESIS, row)
        return session.execute(insert(_audit).returning(_audit.c.id), row).scalar_one()


def verify(*, batch=1000):
    """Walk the whole trail in id order; return {"rows", "head", "problems"}.

    A problem names the first row whose hash does not follow from its content and the row
    before it: that row was altered or moved, or the row before it was deleted. The walk
    goes on from each row's stored hash, so every break is named once.
    """
    columns = [_audit.c.id, _audit.c.row_hash, *(_audit.c[name] for name in _CHAINED)]
    previous, count, problems, after = GENESIS, 0, [], 0
    while True:
        with atomic() as session:
            rows = session.execute(select(*columns).where(_audit.c.id > after).order_by(_audit.c.id).limit(batch)).all()
        for row in rows:
            count += 1
            if row.row_hash != row_hash(previous, row._mapping):
                problems.append(
                    {"id": row.id, "problem": "altered or moved, or the row before it deleted (its hash does not follow)"}
                )
            previous, after = row.row_hash, row.id
        if len(rows) < batch:
            return {"rows": count, "head": {"id": after or None, "row_hash": previous}, "problems": problems}


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
    with atomic() as session:
        return newest_first(session, query, _audit.c.id, before=before, limit=limit)


def export(*, admin_id=None, target_user_id=None, action=None, before=None, max_rows=10_000):
    """The filtered trail, newest first, as rows (mappings), at most `max_rows` of them."""
    rows = []
    while len(rows) < max_rows:
        page = listing(
            admin_id=admin_id, target_user_id=target_user_id, action=action, before=before, limit=min(500, max_rows - len(rows))
        )
        rows += page["items"]
        before = page["next_cursor"]
        if before is None:
            return rows
    return rows
