"""Tournaments: definitions, their periods (one per occurrence) and the entries of each period."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import BigIntegerPK, UTCDateTime, utcnow

TOURNAMENT_METRICS = ("wagered", "net_win", "multiplier_points", "best_multiplier")
PRIZE_MODES = ("fixed", "entry_fees")
TOURNAMENT_STATUSES = ("active", "cancelled")
# open: scheduled or running (the clock decides which); closing: standings final, prizes being
# paid; closed: every prize paid; cancelled: entry fees refunded, no prizes.
PERIOD_STATUSES = ("open", "closing", "closed", "cancelled")


def _one_of(column, values):
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


class Tournament(db.Model):
    """What an operator defined: which play scores how, when, and what it pays."""

    __tablename__ = "tournaments"
    __table_args__ = (
        CheckConstraint(_one_of("metric", TOURNAMENT_METRICS), name="metric_known"),
        CheckConstraint(_one_of("prize_mode", PRIZE_MODES), name="prize_mode_known"),
        CheckConstraint(_one_of("status", TOURNAMENT_STATUSES), name="status_known"),
        CheckConstraint("entry_fee >= 0 AND prize_amount >= 0 AND guaranteed_pool >= 0", name="coins_non_negative"),
        CheckConstraint("rake_percent >= 0 AND rake_percent <= 100", name="rake_percent_range"),
    )

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    title: Mapped[str] = mapped_column(String(80), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Bits of models.GAME_TYPES, as in user_stats.games_mask.
    games_mask: Mapped[int] = mapped_column(Integer, nullable=False)
    metric: Mapped[str] = mapped_column(String(20), nullable=False)
    multiplier_cap: Mapped[int] = mapped_column(BigInteger, nullable=False)
    min_bet: Mapped[int] = mapped_column(BigInteger, nullable=False)
    min_rounds: Mapped[int] = mapped_column(Integer, nullable=False)
    max_rounds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_entrants: Mapped[int | None] = mapped_column(Integer, nullable=True)
    join_required: Mapped[bool] = mapped_column(Boolean, nullable=False)
    entry_fee: Mapped[int] = mapped_column(BigInteger, nullable=False)
    prize_mode: Mapped[str] = mapped_column(String(12), nullable=False)
    prize_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    rake_percent: Mapped[int] = mapped_column(Integer, nullable=False)
    guaranteed_pool: Mapped[int] = mapped_column(BigInteger, nullable=False)
    payouts = mapped_column(JSON, nullable=False)
    starts_at = mapped_column(UTCDateTime, nullable=False)
    duration_seconds: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    repeat_every_seconds: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    repeat_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # A five-field cron expression (UTC); each occurrence starts a period of duration_seconds.
    schedule: Mapped[str | None] = mapped_column(String(100), nullable=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class TournamentPeriod(db.Model):
    """One occurrence of a tournament, with its own standings and prizes."""

    __tablename__ = "tournament_periods"
    __table_args__ = (
        CheckConstraint(_one_of("status", PERIOD_STATUSES), name="status_known"),
        UniqueConstraint("tournament_id", "number", name="uq_tournament_periods_number"),
        Index("ix_tournament_periods_status_ends", "status", "ends_at"),
    )

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    tournament_id: Mapped[int] = mapped_column(ForeignKey("tournaments.id"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    starts_at = mapped_column(UTCDateTime, nullable=False)
    ends_at = mapped_column(UTCDateTime, nullable=True)  # None: until an operator ends it
    # A free race every player is in without joining (tournaments.join_required false).
    open_to_all: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    # Kept by joins in the statement that admits an entrant (max_entrants holds under races).
    entrants: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    fees: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    pool: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # set when the period closes
    closed_at = mapped_column(UTCDateTime, nullable=True)


class TournamentEntry(db.Model):
    """A player's place in one period: the live score (from settled rounds) and, once closed, rank and prize."""

    __tablename__ = "tournament_entries"
    __table_args__ = (
        UniqueConstraint("period_id", "user_id", name="uq_tournament_entries_period_user"),
        # No index covers what a round updates (score, rounds, reached_at, reached_round_id):
        # the update stays heap-only on PostgreSQL (migration 0060).
        Index("ix_tournament_entries_user", "user_id", "period_id"),
        CheckConstraint("rounds >= 0 AND fee >= 0", name="counts_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("tournament_periods.id"), nullable=False)
    tournament_id: Mapped[int] = mapped_column(ForeignKey("tournaments.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    metric: Mapped[str] = mapped_column(String(20), nullable=False)
    joined_at = mapped_column(UTCDateTime, nullable=False)
    fee: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    score: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    rounds: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # When the current score was reached, and by which round: ties go to the earlier.
    reached_at = mapped_column(UTCDateTime, nullable=True)
    reached_round_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Set by the close: no round scores here any more.
    final: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    prize: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    prize_paid_at = mapped_column(UTCDateTime, nullable=True)
    refunded_at = mapped_column(UTCDateTime, nullable=True)
