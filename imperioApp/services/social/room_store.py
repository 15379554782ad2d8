"""The rooms' own state: in one process's memory, or shared by every process in Redis.

Both stores make every change one atomic step (a Lua script on Redis, one lock in memory),
so two players racing for the last seat can never both get it. `rooms` decides which store
serves and what a refusal means; a store answers with what happened ("joined", "room_full").
"""

import secrets
import threading
import time
from dataclasses import dataclass, field

from redis.exceptions import RedisError

from ...adapters.redis_lua import LuaScript
from ..core.errors import DomainError

KEY_PREFIX = "imperio:room:"
PUBLIC_INDEX = "imperio:rooms:public"
MAX_LISTED = 100


class RoomsUnavailable(DomainError):
    status = 503
    code = "rooms_unavailable"


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


def table_key(room_id):
    """The Redis key of the room's shared-table state (deleted with the room)."""
    return KEY_PREFIX + room_id + ":table"


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
