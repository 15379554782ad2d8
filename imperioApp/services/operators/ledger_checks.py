"""The incremental ledger check: balance == checkpoint + the rows after it, for the players who have new rows.

A player's ledger rows are written under their row lock, so their ids commit in order: the
rows after a player's checkpoint id are exactly the ones not yet counted. Other players'
rows do not commit in id order, so the scan starts from the watermark, the last id that was
older than LAG at the previous check (no transaction stays open that long), and the
per-player checkpoint skips what was counted already. The cost is the rows since the last
check, not the ledger. A balance changed with no ledger row at all, on a player with no new
rows, is only seen by the full check (actions.check_ledger), which stays the reference.
"""

from datetime import timedelta

from sqlalchemy import BigInteger, Column, MetaData, String, Table, func, insert, literal, select, text, true

from ...adapters.upserts import DIALECT_INSERTS
from ...models import LedgerCheckpoint, LedgerEntry, User, Watermark
from ...models.base import utcnow
from ..core.unit_of_work import atomic

_ledger = LedgerEntry.__table__
_users = User.__table__
_points = LedgerCheckpoint.__table__
_marks = Watermark.__table__

# Each check's players (those with rows since their checkpoint), for the length of its transaction.
_CHECKED = Table(
    "ledger_check_players",
    MetaData(),
    Column("user_id", BigInteger),
    Column("username", String),
    Column("balance", BigInteger),
    Column("ledger_sum", BigInteger),
    Column("last", BigInteger),
    Column("rows", BigInteger),
)

MARK = "ledger_check"
LAG = timedelta(minutes=10)


def _advance(session, matched, now):
    """Move the checkpoints of the players in `matched` (user_id, last, ledger_sum) forward, in one statement."""
    statement = DIALECT_INSERTS[session.get_bind().dialect.name](_points).from_select(
        ["user_id", "through_id", "total", "checked_at"],
        # SQLite parses ON CONFLICT after a SELECT only when the SELECT has a WHERE.
        select(matched.c.user_id, matched.c.last, matched.c.ledger_sum, literal(now, _points.c.checked_at.type)).where(true()),
    )
    return statement.on_conflict_do_update(
        index_elements=[_points.c.user_id],
        set_={name: statement.excluded[name] for name in ("through_id", "total", "checked_at")},
    )


def _materialise(session, query):
    """The checked players as a temporary table: the new rows are read once, whatever reads the result."""
    dialect = session.get_bind().dialect
    sql = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})  # integers only
    session.execute(text(f"CREATE TEMPORARY TABLE {_CHECKED.name} AS {sql}"))  # nosec B608  # compiled from Core; its only value is an integer


def check(now=None):
    """Check every player with rows since their checkpoint; advance the good ones; return what was found."""
    now = now or utcnow()
    with atomic() as session:
        if session.get_bind().dialect.name == "postgresql":
            # The planner expects every row after the watermark; compiling for that (JIT) cost
            # more than the whole check of a day's rows.
            session.execute(text("SET LOCAL jit = off"))
        # The mark's row lock makes two checks at once take turns.
        scan_from = session.execute(select(_marks.c.through_id).where(_marks.c.name == MARK).with_for_update()).scalar()
        scan_from = int(scan_from or 0)
        fresh = (
            select(
                _ledger.c.user_id,
                func.sum(_ledger.c.amount).label("added"),
                func.max(_ledger.c.id).label("last"),
                func.count().label("rows"),
            )
            .select_from(_ledger.outerjoin(_points, _points.c.user_id == _ledger.c.user_id))
            .where(_ledger.c.id > scan_from, _ledger.c.id > func.coalesce(_points.c.through_id, 0))
            .group_by(_ledger.c.user_id)
            .subquery()
        )
        _materialise(
            session,
            select(
                fresh.c.user_id,
                _users.c.username,
                _users.c.balance,
                (func.coalesce(_points.c.total, 0) + fresh.c.added).label("ledger_sum"),
                fresh.c.last,
                fresh.c.rows,
            )
            .join(_users, _users.c.id == fresh.c.user_id)
            .outerjoin(_points, _points.c.user_id == fresh.c.user_id),
        )
        checked = _CHECKED.c
        counted = session.execute(select(func.count(), func.coalesce(func.sum(checked.rows), 0))).one()
        rows = session.execute(select(_CHECKED).where(checked.balance != checked.ledger_sum).order_by(checked.user_id)).all()
        offenders = [
            {"user_id": row.user_id, "username": row.username, "balance": row.balance, "ledger_sum": int(row.ledger_sum)}
            for row in rows
        ]
        # Written by the database from the same rows: a day's players never travel through here.
        session.execute(_advance(session, select(_CHECKED).where(checked.balance == checked.ledger_sum).subquery(), now))
        session.execute(text(f"DROP TABLE {_CHECKED.name}"))  # nosec B608  # a constant name
        settled = session.execute(
            select(func.max(_ledger.c.id)).where(_ledger.c.id > scan_from, _ledger.c.created_at < now - LAG)
        ).scalar()
        mark = max(scan_from, settled or 0)
        if not session.execute(_marks.update().where(_marks.c.name == MARK).values(through_id=mark, updated_at=now)).rowcount:
            session.execute(insert(_marks).values(name=MARK, through_id=mark, updated_at=now))
    return {
        "ok": not offenders,
        "players_checked": counted[0],
        "rows_checked": int(counted[1]),
        "offenders": offenders,
        "scanned_from_id": scan_from,
    }
