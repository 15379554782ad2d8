"""Chat rooms: posting (validated, rate-limited, moderated), history, mutes and bans.

Messages are plain text. They are trimmed and stored exactly as typed, never escaped or
interpreted here: rendering them as text is the client's job, and escaping on the way in
would corrupt what a non-HTML client shows.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, exists, insert, literal, or_, select

from ...games.numbers import is_integer
from ...models import CHAT_ROOMS, ChatMessage, ChatSanction, User
from ...models.base import UTCDateTime, utcnow
from ...models.chat import CHAT_MESSAGE_MAX_LENGTH
from ..core import events
from ..core.errors import DomainError, Forbidden, NotFound, ValidationFailed
from ..core.unit_of_work import atomic
from ..identity import accounts, throttle
from ..protection import enforcement

_messages = ChatMessage.__table__
_sanctions = ChatSanction.__table__
_users = User.__table__


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, message, *, retry_after):
        super().__init__(message, details={"retry_after": round(retry_after, 3)})
        self.retry_after = retry_after


def validate_room(room):
    """Raise unless `room` names a chat room."""
    if room not in CHAT_ROOMS:
        raise NotFound(f"no chat room {room!r}; rooms are {', '.join(CHAT_ROOMS)}", code="unknown_room")


def join(user_id, room):
    """Check the user may read `room`; return its recent history (oldest first)."""
    validate_room(room)
    enforcement.ensure_may_play(user_id)
    sanction = active_sanctions(user_id)
    if "ban" in sanction:
        raise Forbidden("you are banned from chat", code="banned")
    return history(room)


def history(room, limit=None):
    """The room's last `limit` (CHAT_HISTORY_SIZE) messages, oldest first."""
    limit = limit or current_app.config["CHAT_HISTORY_SIZE"]
    query = (
        select(_messages.c.id, _messages.c.room, _messages.c.message, _messages.c.created_at, _users.c.username)
        .join(_users, _users.c.id == _messages.c.user_id)
        .where(_messages.c.room == room)
        .order_by(_messages.c.id.desc())
        .limit(limit)
    )
    with atomic() as session:
        rows = session.execute(query).all()
    return [_public(row.id, row.room, row.username, row.message, row.created_at) for row in reversed(rows)]


def post(user_id, username, room, text):
    """Store one message from a user; return it as sent to the room."""
    validate_room(room)
    if not isinstance(text, str):
        raise ValidationFailed("message must be a string", code="validation_error")
    text = text.strip()
    if not text:
        raise ValidationFailed("message must not be empty", code="empty_message")
    if len(text) > CHAT_MESSAGE_MAX_LENGTH:
        raise ValidationFailed(f"message must be at most {CHAT_MESSAGE_MAX_LENGTH} characters", code="message_too_long")
    config = current_app.config
    allowed, retry_after = throttle.hit(f"chat:{user_id}", config["CHAT_RATE_LIMIT"], config["CHAT_RATE_WINDOW_SECONDS"])
    if not allowed:
        raise RateLimited(
            f"slow down: at most {config['CHAT_RATE_LIMIT']} messages per {config['CHAT_RATE_WINDOW_SECONDS']} s",
            retry_after=retry_after,
        )
    now = utcnow()
    # One statement stores the message unless a sanction is in force (the hot path: no
    # separate sanction lookup); only a refused message pays for finding out which.
    in_force = or_(
        exists().where(_sanctions.c.user_id == user_id, or_(_sanctions.c.expires_at.is_(None), _sanctions.c.expires_at > now)),
        enforcement.blocked_clause(user_id, now),
    )
    row = select(literal(room), literal(user_id), literal(text), literal(now, UTCDateTime)).where(~in_force)
    with atomic() as session:
        message_id = session.execute(
            insert(_messages).from_select(["room", "user_id", "message", "created_at"], row).returning(_messages.c.id)
        ).scalar_one_or_none()
    if message_id is None:
        enforcement.ensure_may_play(user_id)
        _refuse_sanctioned(active_sanctions(user_id))
    return _public(message_id, room, username, text, now)


def _refuse_sanctioned(sanction):
    if "ban" in sanction:
        raise Forbidden("you are banned from chat", code="banned")
    until = sanction.get("mute")
    raise Forbidden(f"you are muted{' until ' + until.isoformat() if until else ''}", code="muted")


def active_sanctions(user_id):
    """{"mute"|"ban": expires_at or None} for the user's sanctions in force."""
    now = utcnow()
    with atomic() as session:
        rows = session.execute(
            select(_sanctions.c.kind, _sanctions.c.expires_at).where(
                _sanctions.c.user_id == user_id,
                or_(_sanctions.c.expires_at.is_(None), _sanctions.c.expires_at > now),
            )
        ).all()
    found = {}
    for kind, expires_at in rows:
        # The longest sanction of each kind wins; None (for good) outlasts any date.
        if kind not in found or expires_at is None or (found[kind] is not None and expires_at > found[kind]):
            found[kind] = expires_at
    return found


def sanction(admin_id, username, kind, minutes=None):
    """Mute (support and above) or ban (risk and above) a player for `minutes` (a ban: for good when None)."""
    _require_moderator(admin_id, kind)
    if minutes is not None:
        limit = current_app.config["CHAT_MAX_MUTE_MINUTES"]
        if not is_integer(minutes, 1, limit):
            raise ValidationFailed(f"minutes must be an integer from 1 to {limit}", code="invalid_minutes")
    elif kind == "mute":
        raise ValidationFailed("a mute needs minutes", code="invalid_minutes")
    target = _target(username, admin_id)
    now = utcnow()
    expires_at = now + timedelta(minutes=minutes) if minutes is not None else None
    with atomic() as session:
        session.execute(
            insert(_sanctions).values(user_id=target.id, kind=kind, expires_at=expires_at, created_by=admin_id, created_at=now)
        )
        if kind == "ban":
            # The realtime layer makes every socket of theirs leave the chat rooms.
            events.publish_after_commit(events.CHAT_BANNED, {"user_id": target.id})
    return {"user_id": target.id, "username": target.username, "kind": kind, "expires_at": expires_at}


def lift(admin_id, username, kind):
    """Lift a player's mutes (support and above) or bans (risk and above). Return how many were lifted."""
    _require_moderator(admin_id, kind)
    target = _target(username, admin_id)
    with atomic() as session:
        return session.execute(delete(_sanctions).where(_sanctions.c.user_id == target.id, _sanctions.c.kind == kind)).rowcount


# The operator role each kind of sanction needs (docs/operators.md#roles).
SANCTION_ROLES = {"mute": "support", "ban": "risk"}


def _require_moderator(user_id, kind):
    accounts.require_role(user_id, SANCTION_ROLES.get(kind, "admin"), "only operators can moderate chat")


def _target(username, admin_id):
    if not isinstance(username, str) or not username.strip():
        raise ValidationFailed("username must be a non-empty string", code="validation_error")
    target = accounts.get_user_by_username(username.strip())
    if target.id == admin_id:
        raise ValidationFailed("you cannot sanction yourself", code="invalid_target")
    return target


def _public(message_id, room, username, text, created_at):
    return {
        "id": message_id,
        "room": room,
        "username": username,
        "message": text,
        "timestamp": created_at.isoformat(timespec="milliseconds"),
    }
