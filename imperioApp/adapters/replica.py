"""The streaming replica: a second engine for reads that may lag, used only while it keeps up.

How far behind it is, without privileges on either server: a process asks, at most every
REPLICA_CHECK_SECONDS, the primary for its WAL position and its clock, then the replica for
how far it has replayed and the commit time of the last transaction it replayed (a time
on the primary's clock, so no clock skew between hosts enters). A replica that has
replayed the primary's position is current; one behind it is as old as that commit. A
replica that stopped streaming (or whose server is down) falls behind by this measure too:
no separate liveness probe is needed.
"""

import threading
import time

import structlog
from flask import current_app
from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError

from .. import metrics

log = structlog.get_logger(__name__)

_EXTENSION = "imperio.replica"


def lsn_number(lsn):
    """A PostgreSQL LSN ('16/B374D848') as an integer."""
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def lag_seconds(position, clock, replayed, replayed_commit):
    """How stale the replica is: 0 if it has replayed the primary's `position` (read at
    `clock`), else the age of the last commit it replayed (infinite if none since it started)."""
    if lsn_number(replayed) >= lsn_number(position):
        return 0.0
    if replayed_commit is None:
        return float("inf")
    return max(0.0, (clock - replayed_commit).total_seconds())


class Replica:
    """The replica's engine and this process's latest verdict on whether it may serve."""

    def __init__(self, engine, primary, *, max_lag, check_every, retry_after):
        self.engine = engine
        self.primary = primary
        self.max_lag = max_lag
        self.check_every = check_every
        self.retry_after = retry_after
        self.lag = None  # seconds behind at the last check; None before one or after a failure
        self.marks = {}  # user id → monotonic time until which their own reads avoid the replica
        self._checked_at = None
        self._usable = False
        self._down_until = 0.0
        # Under gevent a lock greenlets share: one of them checks, the others keep the last verdict.
        self._checking = threading.Lock()

    @property
    def window(self):
        """How stale a read on the replica may be: the lag bound plus the time between checks."""
        return self.max_lag + self.check_every

    def usable(self):
        """True if the replica may serve a read now (checked again when the last check is old)."""
        now = time.monotonic()
        if now < self._down_until:
            return False
        if self._checked_at is not None and now - self._checked_at < self.check_every:
            return self._usable
        if not self._checking.acquire(blocking=False):
            return self._usable
        try:
            self._usable = self._check()
            self._checked_at = time.monotonic()
        finally:
            self._checking.release()
        return self._usable

    def _check(self):
        try:
            with self.primary.connect() as connection:
                position, clock = connection.exec_driver_sql("SELECT pg_current_wal_lsn()::text, clock_timestamp()").one()
            with self.engine.connect() as connection:
                replayed, replayed_commit = connection.exec_driver_sql(
                    "SELECT pg_last_wal_replay_lsn()::text, pg_last_xact_replay_timestamp()"
                ).one()
        except SQLAlchemyError as exc:
            self.failed(exc)
            return False
        if replayed is None:
            log.error("replica_not_in_recovery", detail="DATABASE_REPLICA_URL is not a streaming replica")
            self.failed(None)
            return False
        self.lag = lag_seconds(position, clock, replayed, replayed_commit)
        metrics.replica_checked(self.lag)
        if self.lag > self.max_lag:
            log.warning("replica_lagging", lag_seconds=round(self.lag, 3), bound_seconds=self.max_lag)
            return False
        return True

    def failed(self, exc):
        """The replica failed a read or a check: leave it alone for REPLICA_RETRY_SECONDS."""
        self._usable = False
        self.lag = None
        metrics.replica_checked(None)
        self._down_until = time.monotonic() + self.retry_after
        # Its pooled connections are likely dead too; later checkouts reconnect.
        self.engine.dispose(close=False)
        if exc is not None:
            log.warning("replica_unavailable", error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def init_app(app, primary, engine_options):
    """Make the app's Replica when DATABASE_REPLICA_URL is set and the primary is PostgreSQL."""
    url = app.config.get("DATABASE_REPLICA_URL")
    replica = None
    if url and primary.dialect.name == "postgresql":
        options = {**engine_options, "pool_size": app.config.get("DB_REPLICA_POOL_SIZE", 5)}
        replica = Replica(
            create_engine(url, **options),
            primary,
            max_lag=app.config["REPLICA_MAX_LAG_SECONDS"],
            check_every=app.config["REPLICA_CHECK_SECONDS"],
            retry_after=app.config["REPLICA_RETRY_SECONDS"],
        )
    elif url:
        log.warning("replica_ignored", detail="a replica is used only with a PostgreSQL primary")
    app.extensions[_EXTENSION] = replica
    return replica


def current():
    """The current app's Replica, or None (no replica configured)."""
    return current_app.extensions.get(_EXTENSION)
