"""Summaries kept beside the big tables so that reads over any range cost the same at any size."""

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class GameHour(db.Model):
    """Rounds settled in one UTC hour of one game: how many, coins wagered and paid."""

    __tablename__ = "game_hours"

    game_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    hour = mapped_column(UTCDateTime, primary_key=True)
    rounds: Mapped[int] = mapped_column(BigInteger, nullable=False)
    wagered: Mapped[int] = mapped_column(BigInteger, nullable=False)
    paid: Mapped[int] = mapped_column(BigInteger, nullable=False)


class GameHourWin(db.Model):
    """One of the largest net wins of its game in its hour (the top WINS_PER_HOUR of each)."""

    __tablename__ = "game_hour_wins"
    __table_args__ = (
        Index("ix_game_hour_wins_net", "net", "round_id"),
        Index("ix_game_hour_wins_hour", "hour"),
    )

    round_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    game_type: Mapped[str] = mapped_column(String(20), nullable=False)
    hour = mapped_column(UTCDateTime, nullable=False)
    net: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Watermark(db.Model):
    """How far an incremental job has gone: every hour before `through_at`, or every row up to `through_id`."""

    __tablename__ = "watermarks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    through_at = mapped_column(UTCDateTime, nullable=True)
    through_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    updated_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class LedgerCheckpoint(db.Model):
    """A player's ledger as last checked: the sum of their rows up to `through_id` (it matched the balance)."""

    __tablename__ = "ledger_checkpoints"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    through_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    total: Mapped[int] = mapped_column(BigInteger, nullable=False)
    checked_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
