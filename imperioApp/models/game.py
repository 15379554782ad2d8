"""Game rounds and the provably fair seed pairs they draw from."""

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..games import GAMES
from .base import BigIntegerPK, UTCDateTime, utcnow

# The engines' registry decides the games and their order (a game's bit in statistics).
GAME_TYPES = tuple(GAMES)
ROUND_STATUSES = ("open", "settled")


class FairnessSeed(db.Model):
    """A player's seed pair. The active one's hash is public; its seed is revealed on rotation."""

    __tablename__ = "fairness_seeds"
    __table_args__ = (
        CheckConstraint("nonce >= 0", name="nonce_non_negative"),
        # One active pair per player.
        Index(
            "uq_fairness_seeds_active_user",
            "user_id",
            unique=True,
            sqlite_where=db.text("active"),
            postgresql_where=db.text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    server_seed: Mapped[str] = mapped_column(String(64), nullable=False)
    server_seed_hash: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    client_seed: Mapped[str] = mapped_column(String(64), nullable=False)
    nonce: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    revealed_at = mapped_column(UTCDateTime, nullable=True)


class GameRound(db.Model):
    """One round: its bets, every step, outcome, payout and fairness inputs.

    `hidden_state` holds what the player may not see while the round is open (the shoe).
    """

    __tablename__ = "game_rounds"
    __table_args__ = (
        CheckConstraint("game_type IN ('slots', 'blackjack', 'roulette')", name="game_type_known"),
        CheckConstraint("status IN ('open', 'settled')", name="status_known"),
        CheckConstraint("bet > 0 AND payout >= 0", name="amounts_valid"),
        Index("ix_game_rounds_user_id", "user_id", "id"),
        Index("ix_game_rounds_user_game_id", "user_id", "game_type", "id"),
        # Operators' reads by time (RTP, biggest wins) and the hourly rollup find a range here.
        Index("ix_game_rounds_settled_at", "settled_at"),
        # A draw (seed, nonce) is one solo round, or one round per player of a shared spin.
        Index("uq_game_rounds_draw", "seed_id", "nonce", "user_id", unique=True),
        Index(
            "ix_game_rounds_open",
            "user_id",
            sqlite_where=db.text("status = 'open'"),
            postgresql_where=db.text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    game_type: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    bet: Mapped[int] = mapped_column(BigInteger, nullable=False)
    payout: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    inputs = mapped_column(JSON, nullable=False)
    outcome = mapped_column(JSON, nullable=False)
    hidden_state = mapped_column(JSON, nullable=True)
    seed_id: Mapped[int] = mapped_column(ForeignKey("fairness_seeds.id"), nullable=False)
    server_seed_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    client_seed: Mapped[str] = mapped_column(String(64), nullable=False)
    nonce: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    settled_at = mapped_column(UTCDateTime, nullable=True)
    # When the player last acted on the round (NULL: not since it opened); see rounds.expiry.
    last_action_at = mapped_column(UTCDateTime, nullable=True)
