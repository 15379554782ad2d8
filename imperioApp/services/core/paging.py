"""Keyset pages: the shape every "newest first, follow next_cursor" listing returns."""


def _as_dict(row):
    return dict(row._mapping)


def keyset_page(rows, limit, shape=_as_dict, key="id"):
    """{items, next_cursor} from up to `limit` + 1 rows fetched in page order (the extra row says more follow)."""
    items = [shape(row) for row in rows[:limit]]
    return {"items": items, "next_cursor": items[-1][key] if len(rows) > limit else None}
