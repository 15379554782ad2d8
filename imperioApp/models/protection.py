"""Operators' audit trail and players' protection: limits, their history, exclusions, reality checks."""

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import BigIntegerPK, UTCDateTime, utcnow

LIMIT_KINDS = ("loss", "wager")
LIMIT_PERIODS = ("day", "week", "month")
EXCLUSION_KINDS = ("timeout", "self_exclusion")


def _one_of(column, values, name):
    return CheckConstraint(f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")", name=name)


class AdminAudit(db.Model):
    """One operator action, written in the transaction that performed it; never updated or deleted."""

    __tablename__ = "admin_audit"
    __table_args__ = (
        Index("ix_admin_audit_target_id", "target_user_id", "id"),
        Index("ix_admin_audit_admin_id", "admin_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    details = mapped_column(JSON, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # SHA-256 over the previous row's row_hash and this row's content (services.operators.audit).
    row_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class PlayerLimit(db.Model):
    """A player's loss or wager limit for one period: the amount in force and a pending raise or removal."""

    __tablename__ = "player_limits"
    __table_args__ = (
        _one_of("kind", LIMIT_KINDS, "kind_known"),
        _one_of("period", LIMIT_PERIODS, "period_known"),
        CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
        CheckConstraint("pending_amount IS NULL OR pending_amount > 0", name="pending_amount_positive"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    # NULL: no limit in force (a limit may still be pending).
    amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # When pending_at is set, pending_amount (NULL: removal) replaces amount at that time.
    pending_amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    pending_at = mapped_column(UTCDateTime, nullable=True)
    updated_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class LimitChange(db.Model):
    """One requested change of a limit, as the player (or an operator) asked for it."""

    __tablename__ = "limit_changes"
    __table_args__ = (Index("ix_limit_changes_user_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    period: Mapped[str] = mapped_column(String(10), nullable=False)
    previous: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    requested: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    effective_at = mapped_column(UTCDateTime, nullable=False)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class PlayerExclusion(db.Model):
    """A time-out or self-exclusion from `starts_at` until `ends_at` (for good when NULL)."""

    __tablename__ = "player_exclusions"
    __table_args__ = (
        _one_of("kind", EXCLUSION_KINDS, "kind_known"),
        Index("ix_player_exclusions_user_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    starts_at = mapped_column(UTCDateTime, nullable=False)
    ends_at = mapped_column(UTCDateTime, nullable=True)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class RealityCheck(db.Model):
    """A player's reality-check interval and the play session it is timing."""

    __tablename__ = "reality_checks"
    __table_args__ = (CheckConstraint("interval_minutes > 0", name="interval_positive"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    interval_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    session_started_at = mapped_column(UTCDateTime, nullable=True)
    last_bet_at = mapped_column(UTCDateTime, nullable=True)
    # The check is due (shown until acknowledged) from this time on.
    due_at = mapped_column(UTCDateTime, nullable=True)
