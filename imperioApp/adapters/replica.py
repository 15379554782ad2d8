"""The streaming replica: a second engine for reads that may lag, used only while it keeps up.

How far behind it is, without privileges on either server: a process samples the
primary's WAL position (`pg_current_wal_lsn()`) at most every REPLICA_CHECK_SECONDS and
asks the replica how far it has replayed (`pg_last_wal_replay_lsn()`). The replica then
holds every commit made before the newest sample it has replayed past, so its data is at
most that sample's age old. A replica that has stopped streaming (or whose server is down)
falls behind by this measure too: no separate liveness probe is needed.
"""

import threading
import time
from collections import deque

import structlog
from flask import current_app
from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError

log = structlog.get_logger(__name__)

_EXTENSION = "imperio.replica"
_SAMPLES = 64  # primary positions kept: at one per check, more than any usable lag spans


def lsn_number(lsn):
    """A PostgreSQL LSN ('16/B374D848') as an integer."""
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


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
        self._samples = deque(maxlen=_SAMPLES)  # (monotonic time, primary LSN)
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
            self._usable = self._check(now)
            self._checked_at = time.monotonic()
        finally:
            self._checking.release()
        return self._usable

    def _check(self, now):
        try:
            with self.primary.connect() as connection:
                position = connection.exec_driver_sql("SELECT pg_current_wal_lsn()::text").scalar()
            self._samples.append((now, lsn_number(position)))
            with self.engine.connect() as connection:
                replayed = connection.exec_driver_sql("SELECT pg_last_wal_replay_lsn()::text").scalar()
        except SQLAlchemyError as exc:
            self.failed(exc)
            return False
        if replayed is None:
            log.error("replica_not_in_recovery", detail="DATABASE_REPLICA_URL is not a streaming replica")
            self.failed(None)
            return False
        replayed = lsn_number(replayed)
        reached = [moment for moment, position in self._samples if position <= replayed]
        self.lag = now - (max(reached) if reached else self._samples[0][0])
        if reached:  # older samples can no longer be the newest one reached
            while self._samples[0][0] < max(reached):
                self._samples.popleft()
        if self.lag > self.max_lag:
            log.warning("replica_lagging", lag_seconds=round(self.lag, 3), bound_seconds=self.max_lag)
            return False
        return True

    def failed(self, exc):
        """The replica failed a read or a check: leave it alone for REPLICA_RETRY_SECONDS."""
        self._usable = False
        self.lag = None
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
