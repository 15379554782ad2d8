"""Notifications: typed, persistent messages to one player, announced on the bus after commit."""

from sqlalchemy import func, insert, literal, select, update

from ...models import NOTIFICATION_TYPES, Notification
from ...models.base import UTCDateTime, utcnow
from ..core import events
from ..core.errors import NotFound
from ..core.unit_of_work import atomic

_notes = Notification.__table__
# RETURNING every column: the rows describe themselves, so no row order is needed, which
# keeps a multi-row insert one statement on SQLite too.
_INSERT = insert(_notes).returning(*_notes.c)


def as_dict(row):
    """A notification as its owner sees it."""
    return {
        "id": row.id,
        "type": row.type,
        "payload": row.payload,
        "created_at": row.created_at,
        "read_at": row.read_at,
        "read": row.read_at is not None,
    }


def create(user_id, items):
    """Store notifications [(type, payload), ...] for one player in one statement; each is an event after commit."""
    if not items:
        return []
    now = utcnow()
    rows = []
    for type_, payload in items:
        if type_ not in NOTIFICATION_TYPES:
            raise ValueError(f"unknown notification type {type_!r}")
        rows.append({"user_id": user_id, "type": type_, "payload": payload, "created_at": now, "read_at": None})
    with atomic() as session:
        returned = session.connection().execute(_INSERT, rows).all()
    created = sorted((as_dict(row) for row in returned), key=lambda note: note["id"])
    for note in created:
        event = {**note, "created_at": note["created_at"].isoformat()}
        events.publish_after_commit(events.NOTIFICATION, {"user_id": user_id, "notification": event})
    return created


def page(user_id, *, unread_only=False, before=None, limit=20):
    """One page of the player's notifications, newest first; `before` is the cursor (an id)."""
    query = select(_notes).where(_notes.c.user_id == user_id)
    if unread_only:
        query = query.where(_notes.c.read_at.is_(None))
    if before is not None:
        query = query.where(_notes.c.id < before)
    with atomic() as session:
        rows = session.execute(query.order_by(_notes.c.id.desc()).limit(limit + 1)).all()
    items = [as_dict(row) for row in rows[:limit]]
    return {"items": items, "next_cursor": items[-1]["id"] if len(rows) > limit else None}


def mark_read(user_id, notification_id):
    """Mark one of the player's notifications read (again is harmless); NotFound if not theirs."""
    with atomic() as session:
        row = session.execute(
            update(_notes)
            .where(_notes.c.id == notification_id, _notes.c.user_id == user_id)
            .values(read_at=func.coalesce(_notes.c.read_at, literal(utcnow(), UTCDateTime())))
            .returning(*_notes.c)
        ).one_or_none()
    if row is None:
        raise NotFound("no such notification", code="notification_not_found")
    return as_dict(row)


def mark_all_read(user_id):
    """Mark every unread notification of the player read; return how many changed."""
    with atomic() as session:
        return session.execute(
            update(_notes).where(_notes.c.user_id == user_id, _notes.c.read_at.is_(None)).values(read_at=utcnow())
        ).rowcount


def unread_count(user_id):
    """How many of the player's notifications are unread."""
    with atomic() as session:
        return session.execute(
            select(func.count()).select_from(_notes).where(_notes.c.user_id == user_id, _notes.c.read_at.is_(None))
        ).scalar_one()
