"""Multiplayer rooms: who sits where, shared by every process through Redis when configured.

A room has a game type, a capacity (2-8), a host and, when private, an invite code. A seat
is held per player; several sockets of one player share it (a reference count), and it is
released when the player's last socket leaves. The room closes when its last player goes.
Every change is one atomic step — a Lua script on Redis, one lock in memory — so two
players racing for the last seat can never both get it.

The shared roulette table played in a roulette room keeps its betting window in `tables`;
its Redis key (`table_key`) lives beside the room's and goes with it when the room closes.
"""

import secrets
import threading
import time
from dataclasses import dataclass, field

from flask import current_app
from redis.exceptions import RedisError

from ..adapters.redis_lua import LuaScript
from ..extensions import redis_store
from ..games.numbers import is_integer
from ..models import GAME_TYPES
from . import protection
from .errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed

MIN_PLAYERS, MAX_PLAYERS = 2, 8
KEY_PREFIX = "imperio:room:"
PUBLIC_INDEX = "imperio:rooms:public"
MAX_LISTED = 100
INVITE_CODE_BYTES = 6


class RoomsUnavailable(DomainError):
    status = 503
    code = "rooms_unavailable"


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
class RoomView:
    """A room as its players see it (the invite code only for those who may share it)."""

    id: str
    game_type: str
    max_players: int
    private: bool
    host_id: int
    players: list  # [(user_id, username)] in joining order
    invite_code: str | None = field(default=None, repr=False)

    @property
    def usernames(self):
        """The players' names in joining order."""
        return [name for _, name in self.players]

    @property
    def host(self):
        """The host's username."""
        return next((name for uid, name in self.players if uid == self.host_id), None)

    def public(self, *, with_invite=False):
        """The JSON shape sent to clients."""
        data = {
            "room_id": self.id,
            "game_type": self.game_type,
            "max_players": self.max_players,
            "private": self.private,
            "host": self.host,
            "players": self.usernames,
        }
        if with_invite and self.private:
            data["invite_code"] = self.invite_code
        return data


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
    protection.ensure_may_play(user_id)
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
    protection.ensure_may_play(user_id)
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


def table_key(room_id):
    """The Redis key of the room's shared-table state (deleted with the room)."""
    return KEY_PREFIX + room_id + ":table"


def _valid_id(room_id):
    if not isinstance(room_id, str) or not 1 <= len(room_id) <= 32:
        raise ValidationFailed("room_id must be a room id string", code="validation_error")
    return room_id


def _store():
    client = redis_store.client
    if client is not None:
        return RedisRooms(client, current_app.config["ROOM_TTL_SECONDS"])
    return current_app.extensions.setdefault("imperio.rooms", MemoryRooms())


# --- in-memory store -------------------------------------------------------------------


class _Room:
    def __init__(self, meta):
        self.meta = meta
        self.refs = {}  # user_id -> sockets holding the seat
        self.names = {}
        self.order = []  # user ids in joining order


class MemoryRooms:
    """Rooms of one process, under one lock (no Redis configured)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._rooms = {}

    def create(self, room_id, meta, user_id, username):
        with self._lock:
            if room_id in self._rooms:
                return False
            room = self._rooms[room_id] = _Room(dict(meta))
            room.refs[user_id], room.names[user_id] = 1, username
            room.order.append(user_id)
            return True

    def get(self, room_id):
        with self._lock:
            room = self._rooms.get(room_id)
            if room is None:
                return None
            meta = room.meta
            return RoomView(
                room_id,
                meta["game_type"],
                int(meta["max_players"]),
                bool(meta["private"]),
                int(meta["host_id"]),
                [(uid, room.names[uid]) for uid in room.order],
                meta["invite_code"] or None,
            )

    def join(self, room_id, user_id, username, invite_code):
        with self._lock:
            room = self._rooms.get(room_id)
            if room is None:
                return "room_not_found"
            if user_id in room.refs:
                room.refs[user_id] += 1
                return "already_seated"
            if room.meta["private"] and not secrets.compare_digest(invite_code, room.meta["invite_code"]):
                return "invalid_invite" if invite_code else "invite_required"
            if len(room.refs) >= int(room.meta["max_players"]):
                return "room_full"
            room.refs[user_id], room.names[user_id] = 1, username
            room.order.append(user_id)
            return "joined"

    def list_room(self, room_id):
        """Public rooms are found by scanning (one process holds few)."""

    def unlist_room(self, room_id):
        """Nothing to forget: the scan no longer finds a closed room."""

    def public_rooms(self):
        with self._lock:
            ids = [room_id for room_id, room in self._rooms.items() if not room.meta["private"]]
        return [room for room in map(self.get, ids) if room is not None]

    def leave(self, room_id, user_id):
        with self._lock:
            room = self._rooms.get(room_id)
            if room is None:
                return "room_not_found"
            if user_id not in room.refs:
                return "not_in_room"
            room.refs[user_id] -= 1
            if room.refs[user_id] > 0:
                return "still_seated"
            del room.refs[user_id], room.names[user_id]
            room.order.remove(user_id)
            if not room.order:
                del self._rooms[room_id]
                return "closed"
            if int(room.meta["host_id"]) == user_id:
                room.meta["host_id"] = room.order[0]
            return "left"


# --- Redis store -----------------------------------------------------------------------
# Keys per room: <id> (hash: meta), <id>:refs (hash user -> sockets), <id>:names (hash
# user -> username), <id>:order (zset user by joining sequence), <id>:table (hash: the
# table's betting window, written by `tables`; deleted here with the room).

_CREATE = LuaScript("""
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'game_type', ARGV[1], 'max_players', ARGV[2], 'private', ARGV[3],
           'invite_code', ARGV[4], 'host_id', ARGV[5], 'seq', 1)
redis.call('HSET', KEYS[2], ARGV[5], 1)
redis.call('HSET', KEYS[3], ARGV[5], ARGV[6])
redis.call('ZADD', KEYS[4], 1, ARGV[5])
for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ARGV[7]) end
return 1
""")

_JOIN = LuaScript("""
if redis.call('EXISTS', KEYS[1]) == 0 then return 'room_not_found' end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
  return 'already_seated'
end
if redis.call('HGET', KEYS[1], 'private') == '1' and redis.call('HGET', KEYS[1], 'invite_code') ~= ARGV[3] then
  if ARGV[3] == '' then return 'invite_required' end
  return 'invalid_invite'
end
if redis.call('HLEN', KEYS[2]) >= tonumber(redis.call('HGET', KEYS[1], 'max_players')) then
  return 'room_full'
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[2], ARGV[1], 1)
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[4], seq, ARGV[1])
for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
return 'joined'
""")

_LEAVE = LuaScript("""
if redis.call('EXISTS', KEYS[1]) == 0 then return 'room_not_found' end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 'not_in_room' end
if redis.call('HINCRBY', KEYS[2], ARGV[1], -1) > 0 then return 'still_seated' end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
if redis.call('HLEN', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
  return 'closed'
end
if redis.call('HGET', KEYS[1], 'host_id') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'host_id', redis.call('ZRANGE', KEYS[4], 0, 0)[1])
end
return 'left'
""")


class RedisRooms:
    """Rooms shared by every process through Redis; each operation one script."""

    def __init__(self, client, ttl):
        self.client = client
        self.ttl = ttl

    def _keys(self, room_id):
        base = KEY_PREFIX + room_id
        return [base, base + ":refs", base + ":names", base + ":order", table_key(room_id)]

    def _run(self, script, keys, args):
        try:
            return script(self.client, keys, args)
        except RedisError as exc:
            # Rooms are shared state: a per-process fallback would split them, so refuse.
            raise RoomsUnavailable(f"multiplayer rooms are unavailable: {exc}") from None

    def create(self, room_id, meta, user_id, username):
        args = [meta["game_type"], meta["max_players"], meta["private"], meta["invite_code"], user_id, username, self.ttl]
        return bool(self._run(_CREATE, self._keys(room_id)[:4], args))

    def get(self, room_id):
        base, _, names_key, order_key, _ = self._keys(room_id)
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.hgetall(base)
            pipe.zrange(order_key, 0, -1)
            pipe.hgetall(names_key)
            meta, order, names = pipe.execute()
        except RedisError as exc:
            raise RoomsUnavailable(f"multiplayer rooms are unavailable: {exc}") from None
        if not meta:
            return None
        meta = {k.decode(): v.decode() for k, v in meta.items()}
        names = {int(k): v.decode() for k, v in names.items()}
        players = [(int(uid), names.get(int(uid), "?")) for uid in order]
        return RoomView(
            room_id,
            meta["game_type"],
            int(meta["max_players"]),
            meta["private"] == "1",
            int(meta["host_id"]),
            players,
            meta["invite_code"] or None,
        )

    def join(self, room_id, user_id, username, invite_code):
        return self._decode(self._run(_JOIN, self._keys(room_id)[:4], [user_id, username, invite_code, self.ttl]))

    def leave(self, room_id, user_id):
        return self._decode(self._run(_LEAVE, self._keys(room_id), [user_id]))

    @staticmethod
    def _decode(value):
        return value.decode() if isinstance(value, bytes) else value

    # The public rooms' index: a sorted set of ids by opening time. A room that expired
    # without closing is dropped from it when a listing finds it gone.

    def list_room(self, room_id):
        self._call(lambda: self.client.zadd(PUBLIC_INDEX, {room_id: time.time()}))

    def unlist_room(self, room_id):
        self._call(lambda: self.client.zrem(PUBLIC_INDEX, room_id))

    def public_rooms(self):
        ids = [self._decode(room_id) for room_id in self._call(lambda: self.client.zrange(PUBLIC_INDEX, 0, MAX_LISTED - 1))]
        found = []
        for room_id in ids:
            room = self.get(room_id)
            if room is None:
                self.unlist_room(room_id)
            elif not room.private:
                found.append(room)
        return found

    def _call(self, operation):
        try:
            return operation()
        except RedisError as exc:
            raise RoomsUnavailable(f"multiplayer rooms are unavailable: {exc}") from None
