"""Multiplayer room events, and the shared roulette table played in roulette rooms.

A socket's seats are remembered in its environ so a disconnect gives them up. Room
broadcasts go to the Socket.IO room `mp:<room_id>`, which through the message queue
reaches the room's players on every process.
"""

import marshmallow as ma
import structlog
from flask import current_app, request
from flask_socketio import emit, join_room, leave_room

from ..extensions import socketio
from ..schemas import StrictBoolean
from ..services.core.errors import Conflict, DomainError, Forbidden
from ..services.social import rooms, tables
from .protocol import event, scheduler, user_room

log = structlog.get_logger(__name__)
_HELD = "imperio.multiplayer_rooms"
MAX_ROOMS_PER_SOCKET = 5


def mp_room(room_id):
    """The Socket.IO room of a multiplayer room."""
    return f"mp:{room_id}"


def _held():
    return request.environ.setdefault(_HELD, set())


class CreateRoomSchema(ma.Schema):
    game_type = ma.fields.String(required=True)
    max_players = ma.fields.Integer(strict=True, required=True)
    private = StrictBoolean(load_default=False)


class JoinRoomSchema(ma.Schema):
    room_id = ma.fields.String(required=True)
    invite_code = ma.fields.String(load_default=None)


class RoomIdSchema(ma.Schema):
    room_id = ma.fields.String(required=True)


class TableBetSchema(ma.Schema):
    room_id = ma.fields.String(required=True)
    bets = ma.fields.List(ma.fields.Dict(), required=True)


def _players_changed(event_name, room_id, username, room):
    socketio.emit(event_name, {"room_id": room_id, "username": username, "players": room.usernames}, to=mp_room(room_id))
    if room is None or not room.private:
        tables_changed()


# --- the list of open tables -------------------------------------------------------------

TABLES_ROOM = "tables"


def tables_changed():
    """Send the sockets watching the list of open tables the list as it is now."""
    try:
        listed = tables.open_tables()
    except DomainError as exc:
        log.info("tables_list_unavailable", code=exc.code)
        return
    socketio.emit("tables_update", {"tables": listed}, to=TABLES_ROOM)


@event("watch_tables")
def on_watch_tables(who, data):
    """Follow the list of open public tables: the reply and every change come as `tables_update`."""
    join_room(TABLES_ROOM)
    reply = {"tables": tables.open_tables()}
    emit("tables_update", reply)
    return reply


@event("unwatch_tables")
def on_unwatch_tables(who, data):
    """Stop following the list of open tables."""
    leave_room(TABLES_ROOM)
    return {"watching": False}


@event("create_multiplayer_room", CreateRoomSchema)
def on_create(who, data):
    """Open a room and take its first seat; the reply has its id (and invite code if private)."""
    held = _held()
    if len(held) >= MAX_ROOMS_PER_SOCKET:
        raise Conflict(f"a connection may sit in at most {MAX_ROOMS_PER_SOCKET} rooms", code="too_many_rooms")
    room = rooms.create(who.user_id, who.username, data["game_type"], data["max_players"], data["private"])
    join_room(mp_room(room.id))
    held.add(room.id)
    reply = room.public(with_invite=True)
    emit("multiplayer_room_created", reply)
    if not room.private:
        tables_changed()
    return reply


@event("join_multiplayer_room", JoinRoomSchema)
def on_join(who, data):
    """Take a seat; everyone in the room gets `player_joined {username, players}`."""
    held = _held()
    room_id = data["room_id"]
    if room_id in held:
        raise Conflict("this connection is already in the room", code="already_in_room")
    if len(held) >= MAX_ROOMS_PER_SOCKET:
        raise Conflict(f"a connection may sit in at most {MAX_ROOMS_PER_SOCKET} rooms", code="too_many_rooms")
    change = rooms.join(room_id, who.user_id, who.username, data["invite_code"])
    join_room(mp_room(room_id))
    held.add(room_id)
    reply = {**change.room.public(with_invite=True), "closes_in": tables.closes_in(room_id)}
    emit("multiplayer_room_joined", reply)
    if change.seat_changed:
        _players_changed("player_joined", room_id, who.username, change.room)
    return reply


@event("leave_multiplayer_room", RoomIdSchema)
def on_leave(who, data):
    """Give up the seat; the others get `player_left`. The last one out closes the room."""
    room_id = data["room_id"]
    if room_id not in _held():
        raise Forbidden("this connection is not in that room", code="not_in_room")
    _release(who, room_id)
    leave_room(mp_room(room_id))
    reply = {"room_id": room_id}
    emit("multiplayer_room_left", reply)
    return reply


def release_all(who):
    """Give up every seat this socket held (it is disconnecting)."""
    for room_id in list(_held()):
        try:
            _release(who, room_id)
        except DomainError as exc:
            log.info("release_on_disconnect_refused", room_id=room_id, code=exc.code)


def _release(who, room_id):
    _held().discard(room_id)
    change = rooms.leave(room_id, who.user_id)
    if change.seat_changed and not change.closed:
        _players_changed("player_left", room_id, who.username, change.room)
    elif change.closed:
        tables_changed()


# --- the shared roulette table -----------------------------------------------------------


@event("place_table_bet", TableBetSchema)
def on_place_table_bet(who, data):
    """Bet on the room's current roulette spin (the first bet opens the betting window)."""
    room_id = data["room_id"]
    placed = tables.place_bet(room_id, who.user_id, data["bets"])
    spin, stake = placed["spin"], placed["stake"]
    if placed["opened"]:
        socketio.emit(
            "table_betting_open",
            {
                "room_id": room_id,
                "closes_in": placed["closes_in"],
                "fairness": placed["fairness"],
            },
            to=mp_room(room_id),
        )
        app = current_app._get_current_object()
        scheduler(app).start_background_task(_settle_later, app, room_id, spin, placed["closes_in"])
        tables_changed()
    socketio.emit("table_bet_placed", {"room_id": room_id, "username": who.username, "bet": stake["bet"]}, to=mp_room(room_id))
    reply = {"room_id": room_id, **stake}
    emit("table_bet_accepted", reply)
    return reply


def _settle_later(app, room_id, spin, seconds):
    """At the end of the betting window: one spin settles every bet; the room sees the result."""
    scheduler(app).sleep(seconds)
    with app.app_context():
        try:
            result = tables.settle(room_id, spin)
        except Exception:
            log.exception("table_settlement_failed", room_id=room_id)
            return
        tables_changed()
    if result is None:
        return
    socketio.emit("table_result", result["public"], to=mp_room(room_id))
    for user_id, own in result["private"].items():
        # Balances are private: each player hears only their own.
        socketio.emit("table_settled", own, to=user_room(user_id))
