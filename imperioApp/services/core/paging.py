"""Keyset pages: the shape every "newest first, follow next_cursor" listing returns, their periods, and "around me" windows."""

from .errors import DomainError


def check_period(since, until):
    """Refuse a period [since, until) whose start is after its end; an empty one (equal) is allowed."""
    if since is not None and until is not None and since > until:
        raise DomainError("'from' must not be after 'to'", code="invalid_date_range")


def _as_dict(row):
    return dict(row._mapping)


def keyset_page(rows, limit, shape=_as_dict, key="id"):
    """{items, next_cursor} from up to `limit` + 1 rows fetched in page order (the extra row says more follow)."""
    items = [shape(row) for row in rows[:limit]]
    return {"items": items, "next_cursor": items[-1][key] if len(rows) > limit else None}


def window_offset(rank, limit):
    """How many places precede a window of `limit` places around `rank` (1-based): theirs in the middle where it can be."""
    return max(0, rank - 1 - (limit - 1) // 2)


def newest_first(session, query, id_column, *, before, limit):
    """One page of `query`, newest first by `id_column`, below the cursor `before` (None: from the newest)."""
    if before is not None:
        query = query.where(id_column < before)
    return keyset_page(session.execute(query.order_by(id_column.desc()).limit(limit + 1)).all(), limit)
