"""Revoked JWTs: the database is the durable record, Redis (when configured) the fast index.

Redis here may keep nothing across a restart, so a marker key says whether its index was
loaded from the database; without the marker the database answers and the index is
reloaded. Refresh tokens, long-lived and used rarely, are always checked in the database.
"""

from datetime import datetime, timezone

import structlog
from redis.exceptions import RedisError
from sqlalchemy import delete, select

from ..extensions import redis_store
from ..models import RevokedToken
from ..models.base import utcnow
from .unit_of_work import atomic

log = structlog.get_logger(__name__)

KEY_PREFIX = "imperio:revoked:"
LOADED_MARKER = "imperio:revoked:__loaded__"
_revoked = RevokedToken.__table__


def revoke(jti, user_id, expires_at):
    """Revoke one token until it would have expired anyway."""
    if isinstance(expires_at, (int, float)):
        expires_at = datetime.fromtimestamp(expires_at, timezone.utc)
    with atomic() as session:
        if session.get(RevokedToken, jti) is None:
            session.add(RevokedToken(jti=jti, user_id=user_id, expires_at=expires_at))
    _index(jti, expires_at)


def is_revoked(jti, token_type="access"):  # nosec B107  # a JWT type name, not a password
    """True if the token was revoked."""
    client = redis_store.client
    if client is not None and token_type == "access":  # nosec B105  # a JWT type name, not a password
        try:
            loaded, revoked = client.mget(LOADED_MARKER, KEY_PREFIX + jti)
            if loaded:
                return revoked is not None
            _reload_index(client)
        except RedisError as exc:
            log.warning("revocation_index_unavailable", error=str(exc))
    with atomic() as session:
        return session.execute(select(_revoked.c.jti).where(_revoked.c.jti == jti)).first() is not None


def purge_expired():
    """Forget revocations of tokens that have expired anyway; return how many."""
    with atomic() as session:
        return session.execute(delete(_revoked).where(_revoked.c.expires_at < utcnow())).rowcount


def _index(jti, expires_at):
    client = redis_store.client
    if client is None:
        return
    ttl = int((expires_at - utcnow()).total_seconds()) + 1
    if ttl <= 0:
        return
    try:
        client.set(KEY_PREFIX + jti, 1, ex=ttl)
    except RedisError as exc:
        log.warning("revocation_index_write_failed", error=str(exc))


def _reload_index(client):
    now = utcnow()
    with atomic() as session:
        rows = session.execute(
            select(_revoked.c.jti, _revoked.c.expires_at).where(_revoked.c.expires_at > now)
        ).all()
    pipe = client.pipeline(transaction=False)
    for jti, expires_at in rows:
        pipe.set(KEY_PREFIX + jti, 1, ex=int((expires_at - now).total_seconds()) + 1)
    pipe.set(LOADED_MARKER, 1)
    pipe.execute()
