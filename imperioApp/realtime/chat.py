"""Chat events: join a room (history arrives), send, leave; admins mute and ban.

Socket.IO room names: chat rooms are `chat:<room>` so no chat room can collide with a
user, leaderboard or multiplayer room.
"""

import marshmallow as ma
from flask_socketio import emit, join_room, leave_room, rooms

from ..extensions import socketio
from ..services.core.errors import Forbidden
from ..services.social import chat
from .protocol import event

_NAME = ma.fields.String


def chat_room(room):
    """The Socket.IO room of a chat room."""
    return f"chat:{room}"


class RoomSchema(ma.Schema):
    room = _NAME(required=True)


class MessageSchema(ma.Schema):
    room = _NAME(required=True)
    message = _NAME(required=True)


class MuteSchema(ma.Schema):
    username = _NAME(required=True)
    minutes = ma.fields.Integer(strict=True, required=True)


class BanSchema(ma.Schema):
    username = _NAME(required=True)
    minutes = ma.fields.Integer(strict=True, load_default=None)


class UsernameSchema(ma.Schema):
    username = _NAME(required=True)


@event("join_chat", RoomSchema)
def on_join_chat(who, data):
    """Join a chat room; its last messages arrive as `chat_history {room, messages}`."""
    messages = chat.join(who.user_id, data["room"])
    join_room(chat_room(data["room"]))
    reply = {"room": data["room"], "messages": messages}
    emit("chat_history", reply)
    return reply


@event("leave_chat", RoomSchema)
def on_leave_chat(who, data):
    """Stop receiving a chat room's messages."""
    chat.validate_room(data["room"])
    leave_room(chat_room(data["room"]))
    return {"room": data["room"]}


@event("send_chat_message", MessageSchema)
def on_send_chat_message(who, data):
    """Post to a chat room this socket has joined; everyone in it gets `chat_message`."""
    chat.validate_room(data["room"])
    if chat_room(data["room"]) not in rooms():
        raise Forbidden("join the room before sending to it", code="not_in_room")
    message = chat.post(who.user_id, who.username, data["room"], data["message"])
    socketio.emit("chat_message", message, to=chat_room(data["room"]))
    return {"id": message["id"]}


@event("mute_user", MuteSchema)
def on_mute_user(who, data):
    """Admins: stop a player sending for `minutes`."""
    return _sanctioned(chat.sanction(who.user_id, data["username"], "mute", data["minutes"]))


@event("ban_user", BanSchema)
def on_ban_user(who, data):
    """Admins: shut a player out of chat (for `minutes`, or for good); their sockets leave it."""
    # The bus's chat_banned makes every socket of theirs, on every process, leave chat at once.
    return _sanctioned(chat.sanction(who.user_id, data["username"], "ban", data["minutes"]))


@event("unmute_user", UsernameSchema)
def on_unmute_user(who, data):
    """Admins: lift a player's mutes."""
    return {"username": data["username"], "lifted": chat.lift(who.user_id, data["username"], "mute")}


@event("unban_user", UsernameSchema)
def on_unban_user(who, data):
    """Admins: lift a player's bans."""
    return {"username": data["username"], "lifted": chat.lift(who.user_id, data["username"], "ban")}


def _sanctioned(result):
    reply = {
        "username": result["username"],
        "kind": result["kind"],
        "expires_at": result["expires_at"].isoformat() if result["expires_at"] else None,
    }
    emit("user_sanctioned", reply)
    return reply
