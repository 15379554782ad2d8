"""A player's ledger, newest first: the transaction history.

Pages are keyset-paginated on (created_at, id), the order of the per-user ledger index,
with the last id seen as the cursor: rows inserted while a player pages through (always
newer) never shift or repeat the rows of later pages.
"""

from sqlalchemy import select, tuple_

from ...models import LedgerEntry
from ..core.errors import NotFound
from ..core.paging import check_period, keyset_page
from ..core.unit_of_work import atomic

_ledger = LedgerEntry.__table__
RECENT = 10

_COLUMNS = (
    _ledger.c.id,
    _ledger.c.type,
    _ledger.c.amount,
    _ledger.c.balance_after,
    _ledger.c.game_type,
    _ledger.c.round_id,
    _ledger.c.created_at,
)
_NEWEST_FIRST = (_ledger.c.created_at.desc(), _ledger.c.id.desc())


def _as_dict(row):
    return dict(row._mapping)


def history(user_id, *, type=None, game_type=None, since=None, until=None, before=None, limit=20):
    """One page of the player's transactions; `since` inclusive, `until` exclusive, `before` the cursor."""
    check_period(since, until)
    query = select(*_COLUMNS).where(_ledger.c.user_id == user_id)
    if type:
        query = query.where(_ledger.c.type == type)
    if game_type:
        query = query.where(_ledger.c.game_type == game_type)
    if since is not None:
        query = query.where(_ledger.c.created_at >= since)
    if until is not None:
        query = query.where(_ledger.c.created_at < until)
    if before is not None:
        # The cursor row's own key: another player's id finds nothing and ends the listing.
        cursor_time = select(_ledger.c.created_at).where(_ledger.c.id == before, _ledger.c.user_id == user_id).scalar_subquery()
        query = query.where(tuple_(_ledger.c.created_at, _ledger.c.id) < tuple_(cursor_time, before))
    with atomic() as session:
        rows = session.execute(query.order_by(*_NEWEST_FIRST).limit(limit + 1)).all()
    return keyset_page(rows, limit)


def recent(user_id):
    """The player's last RECENT transactions."""
    return history(user_id, limit=RECENT)["items"]


def get(user_id, transaction_id):
    """One of the player's transactions; NotFound for anyone else's."""
    with atomic() as session:
        row = session.execute(select(*_COLUMNS).where(_ledger.c.id == transaction_id, _ledger.c.user_id == user_id)).one_or_none()
    if row is None:
        raise NotFound("no such transaction", code="transaction_not_found")
    return _as_dict(row)
