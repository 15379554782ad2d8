"""Login sessions: one per login, named by the `sid` claim of every token it issued."""

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class AuthSession(db.Model):
    """A login and the chain of refresh tokens rotated from it; ended once, never revived."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False)
    user_agent: Mapped[str] = mapped_column(String(256), nullable=False, default="")
    client_address: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_used_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # When the newest refresh token of the chain expires; the session is dead after it.
    expires_at = mapped_column(UTCDateTime, nullable=False)
    # The one refresh token of the chain that may still be exchanged.
    refresh_jti: Mapped[str] = mapped_column(String(64), nullable=False)
    # The token it replaced, and when: a duplicate of that one just after rotation is a
    # client's retry, not a thief's replay.
    previous_refresh_jti: Mapped[str] = mapped_column(String(64), nullable=True)
    rotated_at = mapped_column(UTCDateTime, nullable=True)
    ended_at = mapped_column(UTCDateTime, nullable=True)
    end_reason: Mapped[str] = mapped_column(String(32), nullable=True)
    # When an operator proved their second factor in this session: its tokens say so from then on.
    second_factor_at = mapped_column(UTCDateTime, nullable=True)


Index("ix_sessions_user_id_ended_at", AuthSession.user_id, AuthSession.ended_at)
