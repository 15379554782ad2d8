"""Reads that may lag: served by the streaming replica while it keeps up, else by the primary.

A read declares it may be stale by going through `read(work, own=...)`: history, recall,
statistics, the leaderboard's database fallback and operators' reports. With no replica
configured (DATABASE_REPLICA_URL unset) `read` is the plain primary read it replaces.

Read-your-writes: a player whose round settled less than the replica's staleness bound ago
(`Replica.window`) reads their own rows on the primary. The mark is kept in Redis, so that
every process sees it, and in this process's memory; when Redis cannot answer, the player's
own reads go to the primary.
"""

import time

import structlog
from redis.exceptions import RedisError
from sqlalchemy.exc import InterfaceError, OperationalError

from ...adapters import replica as replicas
from ...extensions import redis_store
from .unit_of_work import atomic, in_transaction

log = structlog.get_logger(__name__)

_KEY = "imperio:wrote:{}"
_PRUNE_AT = 10_000  # marks kept in memory before the expired ones are dropped


def read(work, *, own=None):
    """`work(connection)` on the replica when it may answer, else `work(session)` on the primary.

    `own`: the player whose own rows these are (None for reads about everyone). A replica
    that fails the read is left alone for a while and the primary answers instead.
    """
    replica = replicas.current()
    if replica is not None and not in_transaction() and not (own is not None and wrote_recently(own, replica)):
        if replica.usable():
            try:
                with replica.engine.connect() as connection:
                    return work(connection)
            except (OperationalError, InterfaceError) as exc:
                # Connection lost or refused, or a query cancelled by a conflict with recovery.
                replica.failed(exc)
    with atomic() as session:
        return work(session)


def note_write(user_id):
    """Send the player's own lagging reads to the primary for as long as the replica may lag."""
    replica = replicas.current()
    if replica is None:
        return
    window = replica.window
    marks = replica.marks
    if len(marks) > _PRUNE_AT:
        now = time.monotonic()
        for stale in [user for user, until in marks.items() if until < now]:
            marks.pop(stale, None)
    marks[user_id] = time.monotonic() + window
    client = redis_store.client
    if client is not None:
        try:
            client.set(_KEY.format(user_id), 1, px=int(window * 1000))
        except RedisError as exc:
            log.warning("write_mark_failed", user_id=user_id, error=str(exc))


def wrote_recently(user_id, replica):
    """True while the player's last write may not have reached the replica (or if that is unknown)."""
    if replica.marks.get(user_id, 0) > time.monotonic():
        return True
    client = redis_store.client
    if client is None:
        return False
    try:
        return bool(client.exists(_KEY.format(user_id)))
    except RedisError:
        return True


def on_round_settled(name, payload):
    """Event subscriber: a settled round is the player's write their next reads must show."""
    note_write(payload["user_id"])
