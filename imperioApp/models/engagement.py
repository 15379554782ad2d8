"""What rounds leave behind besides money: statistics, achievements, leaderboards, notifications."""

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import BigIntegerPK, UTCDateTime, utcnow
from .game import GAME_TYPES

# user_stats keeps one row per game played plus this overall row.
ALL_GAMES = "all"
LEADERBOARD_METRICS = ("total_winnings", "biggest_win", "games_played")
NOTIFICATION_TYPES = ("achievement", "big_win", "system", "tournament_prize")


def _one_of(column, values):
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


class UserStats(db.Model):
    """Running totals of a player's settled rounds, per game and overall (game_type 'all')."""

    # Maintained by one upsert in each round's transaction, never recomputed on read. A
    # round is won when its payout exceeds its bet; anything else (a loss, a push) ends a streak.

    __tablename__ = "user_stats"
    __table_args__ = (CheckConstraint(_one_of("game_type", (ALL_GAMES, *GAME_TYPES)), name="game_type_known"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    game_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    games_played: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    games_won: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    total_wagered: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    total_won: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    biggest_win: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    current_streak: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    best_streak: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    big_wins: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    # The game's signature outcome: a natural blackjack, three cherries, a straight-up hit.
    signature_hits: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    # Overall row only: which games were ever played, and which achievements are unlocked
    # (bit = achievement id), so settlement evaluates achievements without another query.
    games_mask: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    achievements_mask: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    last_played_at = mapped_column(UTCDateTime, nullable=True)


class Achievement(db.Model):
    """The catalogue, seeded by migration: unlocked when `metric` reaches `threshold`."""

    __tablename__ = "achievements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    description: Mapped[str] = mapped_column(String(255), nullable=False)
    category: Mapped[str] = mapped_column(String(20), nullable=False)
    metric: Mapped[str] = mapped_column(String(40), nullable=False)
    threshold: Mapped[int] = mapped_column(BigInteger, nullable=False)
    icon: Mapped[str] = mapped_column(String(40), nullable=False)


class UserAchievement(db.Model):
    """An unlock; the primary key makes a second unlock of the same achievement impossible."""

    __tablename__ = "user_achievements"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"), primary_key=True)
    unlocked_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    seen_at = mapped_column(UTCDateTime, nullable=True)


class LeaderboardEntry(db.Model):
    """A player's score on one board: a metric over one period ('2026-11-27', '2026-W48', 'all')."""

    __tablename__ = "leaderboard_entries"
    __table_args__ = (
        # No index on user_id alone: every round rewrites nine entries, and a player's own
        # entries are found by primary key (metric, period, user_id) on the current boards.
        CheckConstraint(_one_of("metric", LEADERBOARD_METRICS), name="metric_known"),
    )

    metric: Mapped[str] = mapped_column(String(20), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    score: Mapped[int] = mapped_column(BigInteger, nullable=False)


# Reads a board in rank order: score descending, ties to the lower user id.
Index(
    "ix_leaderboard_entries_rank",
    LeaderboardEntry.metric,
    LeaderboardEntry.period,
    LeaderboardEntry.score.desc(),
    LeaderboardEntry.user_id,
)


class Notification(db.Model):
    """Something to tell one player; `payload` depends on `type`."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(_one_of("type", NOTIFICATION_TYPES), name="type_known"),
        Index("ix_notifications_user_id", "user_id", "id"),
        Index(
            "ix_notifications_unread",
            "user_id",
            "id",
            sqlite_where=db.text("read_at IS NULL"),
            postgresql_where=db.text("read_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    type: Mapped[str] = mapped_column(String(20), nullable=False)
    payload = mapped_column(JSON, nullable=False)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    read_at = mapped_column(UTCDateTime, nullable=True)
