"""Readiness of the things the app depends on."""

import structlog
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db, redis_store

log = structlog.get_logger(__name__)


def check_dependencies():
    """{"database": status, "redis": status} with status ok, down or not_configured."""
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
    return report
