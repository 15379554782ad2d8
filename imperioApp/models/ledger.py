"""The ledger (`transactions`) and stored idempotent responses."""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import BigIntegerPK, UTCDateTime, utcnow

LEDGER_TYPES = (
    "signup_bonus",
    "bet",
    "win",
    "refund",
    "bonus",
    "adjustment",
    "tournament_fee",
    "tournament_refund",
    "tournament_prize",
)
# Ledger rows of tournaments carry a key naming what they pay (tournament, period, rank or
# player): the database refuses a second row with the same key.
TOURNAMENT_LEDGER_TYPES = ("tournament_fee", "tournament_refund", "tournament_prize")


class LedgerEntry(db.Model):
    """One change of one balance; append-only. sum(amount) per user equals the balance."""

    __tablename__ = "transactions"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_non_zero"),
        CheckConstraint("balance_after >= 0", name="balance_after_non_negative"),
        CheckConstraint("type IN (" + ", ".join(f"'{t}'" for t in LEDGER_TYPES) + ")", name="type_known"),
        Index("ix_transactions_user_created", "user_id", "created_at", "id"),
        Index(
            "uq_transactions_tournament_key",
            "idempotency_key",
            unique=True,
            sqlite_where=db.text("type IN ('tournament_fee', 'tournament_refund', 'tournament_prize')"),
            postgresql_where=db.text("type IN ('tournament_fee', 'tournament_refund', 'tournament_prize')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    type: Mapped[str] = mapped_column(String(20), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    balance_after: Mapped[int] = mapped_column(BigInteger, nullable=False)
    game_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    round_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class IdempotencyRecord(db.Model):
    """The first response to a money-moving request, replayed for retries with the same key."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int] = mapped_column(Integer, nullable=False)
    response_body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow, index=True)
