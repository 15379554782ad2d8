"""Operators' own records: their second factor, its recovery codes, and adjustments awaiting approval."""

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import BigIntegerPK, UTCDateTime, utcnow

ADJUSTMENT_STATUSES = ("pending", "approved", "rejected")


class OperatorSecondFactor(db.Model):
    """An operator's TOTP secret: pending until a first code confirms it, then in force."""

    __tablename__ = "operator_second_factors"

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), primary_key=True)
    # Sealed (adapters.sealing): "fernet:" and a token of about 140 characters.
    secret: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    confirmed_at = mapped_column(UTCDateTime, nullable=True)
    # The last time step a code was accepted for: a code is good once, and never an older one.
    last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class OperatorRecoveryCode(db.Model):
    """One single-use recovery code of an operator, stored as a password hash."""

    __tablename__ = "operator_recovery_codes"
    __table_args__ = (Index("ix_operator_recovery_codes_user", "user_id"),)

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    used_at = mapped_column(UTCDateTime, nullable=True)


class PendingAdjustment(db.Model):
    """A balance adjustment waiting for a second admin: written to the ledger once, on approval."""

    __tablename__ = "pending_adjustments"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
        CheckConstraint("amount <> 0", name="amount_non_zero"),
        Index("ix_pending_adjustments_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    requested_by: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False)
    requested_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending", server_default="pending")
    decided_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=True)
    decided_at = mapped_column(UTCDateTime, nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    transaction_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
