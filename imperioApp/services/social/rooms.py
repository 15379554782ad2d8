"""Multiplayer rooms: who sits where, shared by every process through Redis when configured.

A room has a game type, a capacity (2-8), a host and, when private, an invite code. A seat
is held per player; several sockets of one player share it (a reference count), and it is
released when the player's last socket leaves. The room closes when its last player goes.
Every change is one atomic step — a Lua script on Redis, one lock in memory — so two
players racing for the last seat can never both get it.

The shared roulette table played in a roulette room keeps its betting window in `tables`;
its Redis key (`room_store.table_key`) lives beside the room's and goes with it when the room closes.
"""

import secrets
from dataclasses import dataclass

from flask import current_app

from ...extensions import redis_store
from ...games.numbers import is_integer
from ...models import GAME_TYPES
from ..core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..protection import enforcement
from .room_store import MemoryRooms, RedisRooms, RoomsUnavailable, RoomView

MIN_PLAYERS, MAX_PLAYERS = 2, 8
INVITE_CODE_BYTES = 6


_ERRORS = {
    "room_not_found": (NotFound, "no such room (it may have closed)"),
    "room_full": (Conflict, "the room is full"),
    "invite_required": (Forbidden, "this room is private: an invite code is required"),
    "invalid_invite": (Forbidden, "the invite code is wrong"),
    "not_in_room": (Forbidden, "you are not in this room"),
}


def _refuse(code):
    error_class, message = _ERRORS[code]
    raise error_class(message, code=code)


@dataclass
class Change:
    """What a join or leave did: the room after it, and whether the seat set changed."""

    room: RoomView | None
    seat_changed: bool
    closed: bool = False


# --- validation ------------------------------------------------------------------------


def validate_new_room(game_type, max_players, private):
    """Raise ValidationFailed unless the settings make a valid room."""
    if game_type not in GAME_TYPES:
        raise ValidationFailed(f"game_type must be one of {', '.join(GAME_TYPES)}", code="unknown_game_type")
    if not is_integer(max_players, MIN_PLAYERS, MAX_PLAYERS):
        raise ValidationFailed(f"max_players must be an integer from {MIN_PLAYERS} to {MAX_PLAYERS}", code="invalid_max_players")
    if not isinstance(private, bool):
        raise ValidationFailed("private must be true or false", code="invalid_private")


# --- public operations -----------------------------------------------------------------


def create(user_id, username, game_type, max_players, private=False):
    """Open a room with the creator seated as host; return its view (with invite code)."""
    validate_new_room(game_type, max_players, private)
    enforcement.ensure_may_play(user_id)
    invite = secrets.token_urlsafe(INVITE_CODE_BYTES) if private else ""
    for _ in range(5):
        room_id = secrets.token_hex(5)
        meta = {
            "game_type": game_type,
            "max_players": max_players,
            "private": int(private),
            "invite_code": invite,
            "host_id": user_id,
        }
        if _store().create(room_id, meta, user_id, username):
            if not private:
                _store().list_room(room_id)
            return get(room_id)
    raise RoomsUnavailable("could not allocate a room id; try again")  # pragma: no cover


def get(room_id):
    """The room's view, or NotFound."""
    room = _store().get(_valid_id(room_id))
    if room is None:
        _refuse("room_not_found")
    return room


def join(room_id, user_id, username, invite_code=None):
    """Take a seat (or share the player's seat with another socket); return the Change."""
    if invite_code is not None and not isinstance(invite_code, str):
        raise ValidationFailed("invite_code must be a string", code="validation_error")
    enforcement.ensure_may_play(user_id)
    status = _store().join(_valid_id(room_id), user_id, username, invite_code or "")
    if status in _ERRORS:
        _refuse(status)
    return Change(get(room_id), seat_changed=status == "joined")


def leave(room_id, user_id):
    """Release one socket's hold on the seat; the room closes with its last player."""
    status = _store().leave(_valid_id(room_id), user_id)
    if status in _ERRORS:
        _refuse(status)
    if status == "closed":
        _store().unlist_room(room_id)
        return Change(None, seat_changed=True, closed=True)
    return Change(get(room_id), seat_changed=status == "left")


def require_seat(room_id, user_id):
    """The room, if the user holds a seat in it; else NotFound / Forbidden."""
    room = get(room_id)
    if user_id not in {uid for uid, _ in room.players}:
        _refuse("not_in_room")
    return room


def list_public():
    """The open public rooms, oldest first (a closed or expired room drops out)."""
    return _store().public_rooms()


def reset():
    """Forget this app's in-memory rooms (tests; Redis rooms go with FLUSHDB)."""
    current_app.extensions.pop("imperio.rooms", None)


def _valid_id(room_id):
    if not isinstance(room_id, str) or not 1 <= len(room_id) <= 32:
        raise ValidationFailed("room_id must be a room id string", code="validation_error")
    return room_id


def _store():
    client = redis_store.client
    if client is not None:
        return RedisRooms(client, current_app.config["ROOM_TTL_SECONDS"])
    return current_app.extensions.setdefault("imperio.rooms", MemoryRooms())
