"""Chat: stored messages, and the mutes and bans moderators hand out."""

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import BigIntegerPK, UTCDateTime, utcnow

CHAT_ROOMS = ("lobby", "slots", "blackjack", "roulette")
CHAT_MESSAGE_MAX_LENGTH = 500
SANCTION_KINDS = ("mute", "ban")


class ChatMessage(db.Model):
    """One message as the player typed it (trimmed): plain text, stored raw, never HTML."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        CheckConstraint("room IN (" + ", ".join(f"'{room}'" for room in CHAT_ROOMS) + ")", name="room_known"),
        # The history on join reads the newest rows of one room.
        Index("ix_chat_messages_room_id", "room", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    room: Mapped[str] = mapped_column(String(20), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    message: Mapped[str] = mapped_column(String(CHAT_MESSAGE_MAX_LENGTH), nullable=False)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class ChatSanction(db.Model):
    """A mute (no sending) or ban (no chat at all) until `expires_at`, or for good if NULL."""

    __tablename__ = "chat_sanctions"
    __table_args__ = (
        CheckConstraint("kind IN ('mute', 'ban')", name="kind_known"),
        Index("ix_chat_sanctions_user_kind", "user_id", "kind"),
    )

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
