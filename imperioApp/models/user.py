"""Players and operators."""

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Index, String, false, func
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import BigIntegerPK, UTCDateTime, utcnow

# Ordered: each operator role may do everything the roles before it may.
ROLES = ("player", "support", "risk", "admin")
OPERATOR_ROLES = ROLES[1:]
# Trigram indexes for the operators' player search, on PostgreSQL only (migration 0052).
POSTGRES_ONLY_INDEXES = frozenset({"ix_users_username_trgm", "ix_users_email_trgm"})


def in_models(obj, name, type_, reflected, compare_to):
    """False for what the schema holds and the models cannot declare (Alembic's include_object)."""
    return not (type_ == "index" and name in POSTGRES_ONLY_INDEXES)


class User(db.Model):
    """An account; `balance` is only ever changed by the wallet service."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_non_negative"),
        CheckConstraint("role IN ('player', 'support', 'risk', 'admin')", name="role_known"),
    )

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    balance: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    role: Mapped[str] = mapped_column(String(16), nullable=False, default="player", server_default="player")
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_login_at = mapped_column(UTCDateTime, nullable=True)
    failed_logins: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")
    locked_until = mapped_column(UTCDateTime, nullable=True)
    # The player's choice to show their statistics on their public profile.
    public_stats: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    # Set while a limit, exclusion, reality check or suspension may apply: only flagged
    # players pay for the protection check when they stake.
    protection_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    # Set while the player may hold a tournament entry that scores: only flagged players pay
    # for tournament scoring when a round settles.
    competing: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    # An operator's lock: no login, no play, until lifted.
    suspended_at = mapped_column(UTCDateTime, nullable=True)
    # An operator's exclusion from rankings: left out of leaderboards and tournament standings.
    ranking_excluded: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())

    def __repr__(self):
        return f"<User {self.id} {self.username}>"


# The few players excluded from rankings, found without reading every account: every
# leaderboard and standings read leaves them out.
Index(
    "ix_users_ranking_excluded",
    User.id,
    postgresql_where=User.ranking_excluded.is_(True),
    sqlite_where=User.ranking_excluded.is_(True),
)
# Usernames are unique whatever their case; the stored spelling is the one the player chose.
Index("uq_users_username_lower", func.lower(User.username), unique=True)
