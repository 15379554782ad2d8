"""Idempotent money-moving requests: a retry with the same key replays the first response.

The key is claimed by inserting its row in the same transaction that moves the money, so
the claim and the movement commit or roll back together. A concurrent duplicate blocks on
the unique (user_id, key) index until the first transaction ends, then finds the stored
response. Failed requests store nothing: the key stays free and no money has moved.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from ... import metrics
from ...adapters.upserts import DIALECT_INSERTS
from ...models import IdempotencyRecord
from ...models.base import utcnow
from ..core.errors import Conflict, DomainError
from ..core.unit_of_work import atomic

MAX_KEY_LENGTH = 255
_records = IdempotencyRecord.__table__


class InvalidIdempotencyKey(DomainError):
    status = 400
    code = "invalid_idempotency_key"


@dataclass(frozen=True)
class IdempotentRequest:
    """Who asked, with which key, for what (hash of method, path and body)."""

    user_id: int
    key: str
    request_hash: str


@dataclass(frozen=True)
class StoredResponse:
    """A response as first sent: status and JSON body text."""

    status_code: int
    body: str


def validate_key(key):
    """Raise unless `key` is 1-255 printable ASCII characters."""
    if not key or len(key) > MAX_KEY_LENGTH or not all(" " < ch <= "~" for ch in key):
        raise InvalidIdempotencyKey(f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable ASCII characters without spaces")
    return key


def fingerprint(method, path, body):
    """Hash a request so that only an identical retry can reuse its key."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def execute(request, produce):
    """Run `produce(key)` (→ status, body) at most once per key; return (StoredResponse, replayed).

    `produce` gets the key to pass on to the money movement, whose ledger rows record it.
    """
    ttl = timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"])
    with atomic() as session:
        now = utcnow()
        mine = (_records.c.user_id == request.user_id) & (_records.c.key == request.key)
        session.execute(delete(_records).where(mine, _records.c.created_at < now - ttl))
        claim = (
            DIALECT_INSERTS[session.get_bind().dialect.name](_records)
            .values(
                user_id=request.user_id,
                key=request.key,
                request_hash=request.request_hash,
                status_code=0,
                response_body="",
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["user_id", "key"])
            .returning(_records.c.id)
        )
        record_id = session.execute(claim).scalar_one_or_none()
        if record_id is None:
            stored = session.execute(
                select(_records.c.request_hash, _records.c.status_code, _records.c.response_body).where(mine)
            ).one()
            if stored.request_hash != request.request_hash:
                raise Conflict(
                    "this Idempotency-Key was already used for a different request",
                    code="idempotency_key_reused",
                )
            metrics.IDEMPOTENT_REPLAYS.inc()
            return StoredResponse(stored.status_code, stored.response_body), True
        status_code, body = produce(request.key)
        session.execute(update(_records).where(_records.c.id == record_id).values(status_code=status_code, response_body=body))
        return StoredResponse(status_code, body), False


def purge_expired():
    """Delete keys older than the retention window; return how many went."""
    cutoff = utcnow() - timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"])
    with atomic() as session:
        return session.execute(delete(_records).where(_records.c.created_at < cutoff)).rowcount
