"""Readiness of the things the app depends on."""

import structlog
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db, redis_store
from . import replica as replicas

log = structlog.get_logger(__name__)


# Dependencies whose outage makes the process unready; the replica is not one (the primary answers for it).
REQUIRED = ("database", "redis")


def check_dependencies():
    """{"database", "redis": ok, down or not_configured; "replica": ok, lagging, unreachable or not_configured}."""
    report = {}
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        report["database"] = "ok"
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.error("health_database_down", error=str(exc))
        report["database"] = "down"
    client = redis_store.client
    if client is None:
        report["redis"] = "not_configured"
    else:
        try:
            client.ping()
            report["redis"] = "ok"
        except RedisError as exc:
            log.error("health_redis_down", error=str(exc))
            report["redis"] = "down"
    report["replica"] = _replica_status()
    return report


def _replica_status():
    replica = replicas.current()
    if replica is None:
        return "not_configured"
    if replica.usable():
        return "ok"
    # A replica past its lag bound still answered its check; one that failed has no lag.
    return "lagging" if replica.lag is not None else "unreachable"
