"""Multiplayer rooms: create, join (capacity, invites), leave, disconnect, host hand-over."""

import threading

import pytest

from imperioApp.services.core.errors import Conflict
from imperioApp.services.social import rooms

from .helpers import assert_error


def create(sock, **fields):
    payload = {"game_type": "roulette", "max_players": 4, **fields}
    return sock.emit("create_multiplayer_room", payload)


def test_creating_a_room_seats_the_creator_as_host(connect, player):
    sock = connect(player)
    room = create(sock, game_type="slots", max_players=3)
    assert sock.events("multiplayer_room_created") == [room]
    assert room["room_id"] and room["game_type"] == "slots" and room["max_players"] == 3
    assert room["private"] is False and "invite_code" not in room
    assert room["host"] == player.username and room["players"] == [player.username]


def test_a_private_room_has_an_invite_code(connect, player):
    room = create(connect(player), private=True)
    assert room["private"] is True and len(room["invite_code"]) >= 8


@pytest.mark.parametrize(
    "payload, code",
    [
        ({"game_type": "poker", "max_players": 4}, "unknown_game_type"),
        ({"game_type": "slots", "max_players": 1}, "invalid_max_players"),
        ({"game_type": "slots", "max_players": 9}, "invalid_max_players"),
        ({"game_type": "slots", "max_players": "4"}, "validation_error"),
        ({"game_type": "slots", "max_players": 4.5}, "validation_error"),
        ({"game_type": "slots", "max_players": True}, "validation_error"),
        ({"game_type": "slots", "max_players": 4, "private": "yes"}, "validation_error"),
        ({"game_type": "slots", "max_players": 4, "private": 1}, "validation_error"),
        ({"game_type": "slots"}, "validation_error"),
        ({"max_players": 4}, "validation_error"),
        ({"game_type": "slots", "max_players": 4, "padding": "x" * 20_000}, "payload_too_large"),
        ("slots", "validation_error"),
    ],
)
def test_bad_room_settings_are_refused(connect, player, payload, code):
    sock = connect(player)
    sock.emit("create_multiplayer_room", payload)
    assert_error(sock, code, "create_multiplayer_room")
    assert sock.events("multiplayer_room_created") == []


def test_players_see_each_other_join_and_full_rooms_refuse(connect, player, make_player):
    host = connect(player)
    room = create(host, max_players=2)
    guest_player = make_player()
    guest = connect(guest_player)
    joined = guest.emit("join_multiplayer_room", {"room_id": room["room_id"]})
    assert joined["players"] == [player.username, guest_player.username]
    assert guest.events("multiplayer_room_joined") == [joined]
    expected = {
        "room_id": room["room_id"],
        "username": guest_player.username,
        "players": [player.username, guest_player.username],
    }
    assert host.events("player_joined") == [expected]
    assert guest.events("player_joined") == [expected]

    late = connect(make_player())
    late.emit("join_multiplayer_room", {"room_id": room["room_id"]})
    assert_error(late, "room_full", "join_multiplayer_room")
    assert host.take("player_joined") == [expected]  # nothing new


def test_private_rooms_need_their_invite_code(connect, player, make_player):
    room = create(connect(player), private=True)
    guest = connect(make_player())
    guest.emit("join_multiplayer_room", {"room_id": room["room_id"]})
    assert_error(guest, "invite_required")
    guest.emit("join_multiplayer_room", {"room_id": room["room_id"], "invite_code": "wrong"})
    assert_error(guest, "invalid_invite")
    guest.emit("join_multiplayer_room", {"room_id": room["room_id"], "invite_code": 123})
    assert_error(guest, "validation_error")
    reply = guest.emit("join_multiplayer_room", {"room_id": room["room_id"], "invite_code": room["invite_code"]})
    assert len(reply["players"]) == 2


@pytest.mark.parametrize(
    "payload, code",
    [
        ({"room_id": "doesnotexist"}, "room_not_found"),
        ({"room_id": 12}, "validation_error"),
        ({"room_id": "x" * 100}, "validation_error"),
        ({}, "validation_error"),
    ],
)
def test_joining_an_unknown_room_or_with_a_bad_payload_is_refused(connect, player, payload, code):
    sock = connect(player)
    sock.emit("join_multiplayer_room", payload)
    assert_error(sock, code, "join_multiplayer_room")


def test_joining_twice_on_one_connection_is_refused(connect, player):
    sock = connect(player)
    room = create(sock)
    sock.emit("join_multiplayer_room", {"room_id": room["room_id"]})
    assert_error(sock, "already_in_room")


def test_two_tabs_of_one_player_share_a_seat(connect, player, make_player):
    host = connect(player)
    room = create(host, max_players=2)
    second_tab = connect(player)
    reply = second_tab.emit("join_multiplayer_room", {"room_id": room["room_id"]})
    assert reply["players"] == [player.username]
    assert host.events("player_joined") == []  # the seat set did not change
    guest_player = make_player()
    guest = connect(guest_player)
    assert len(guest.emit("join_multiplayer_room", {"room_id": room["room_id"]})["players"]) == 2
    host.emit("leave_multiplayer_room", {"room_id": room["room_id"]})
    assert guest.events("player_left") == []  # the other tab still holds the seat
    second_tab.disconnect()
    assert guest.events("player_left") == [
        {"room_id": room["room_id"], "username": player.username, "players": [guest_player.username]}
    ]


def test_leaving_tells_the_others_and_hands_over_the_host(connect, player, make_player):
    host = connect(player)
    room = create(host)
    guest_player = make_player()
    guest = connect(guest_player)
    guest.emit("join_multiplayer_room", {"room_id": room["room_id"]})
    assert host.emit("leave_multiplayer_room", {"room_id": room["room_id"]}) == {"room_id": room["room_id"]}
    assert host.events("multiplayer_room_left") == [{"room_id": room["room_id"]}]
    assert guest.events("player_left") == [
        {"room_id": room["room_id"], "username": player.username, "players": [guest_player.username]}
    ]
    host.emit("leave_multiplayer_room", {"room_id": room["room_id"]})
    assert_error(host, "not_in_room")
    third = connect(make_player())
    assert third.emit("join_multiplayer_room", {"room_id": room["room_id"]})["host"] == guest_player.username


def test_the_room_closes_when_its_last_player_leaves(connect, player, make_player):
    host = connect(player)
    room = create(host)
    host.emit("leave_multiplayer_room", {"room_id": room["room_id"]})
    other = connect(make_player())
    other.emit("join_multiplayer_room", {"room_id": room["room_id"]})
    assert_error(other, "room_not_found")


def test_a_disconnect_gives_up_the_seat_and_the_last_one_closes_the_room(connect, player, make_player):
    host = connect(player)
    room = create(host)
    guest_player = make_player()
    guest = connect(guest_player)
    guest.emit("join_multiplayer_room", {"room_id": room["room_id"]})
    guest.disconnect()
    assert host.events("player_left") == [
        {"room_id": room["room_id"], "username": guest_player.username, "players": [player.username]}
    ]
    host.disconnect()
    late = connect(make_player())
    late.emit("join_multiplayer_room", {"room_id": room["room_id"]})
    assert_error(late, "room_not_found")


def test_a_connection_may_sit_in_at_most_five_rooms(connect, player):
    sock = connect(player)
    for _ in range(5):
        create(sock)
    sock.emit("create_multiplayer_room", {"game_type": "slots", "max_players": 2})
    assert_error(sock, "too_many_rooms")


def test_the_last_seat_goes_to_exactly_one_of_racing_players(app, make_player):
    players = [make_player() for _ in range(9)]
    with app.app_context():
        room = rooms.create(players[0].id, players[0].username, "blackjack", 2)
    outcomes = []
    barrier = threading.Barrier(8)

    def race(p):
        barrier.wait()
        with app.app_context():
            try:
                rooms.join(room.id, p.id, p.username)
                outcomes.append("joined")
            except Conflict as exc:
                outcomes.append(exc.code)

    threads = [threading.Thread(target=race, args=(p,)) for p in players[1:]]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(outcomes) == ["joined"] + ["room_full"] * 7
    with app.app_context():
        assert len(rooms.get(room.id).players) == 2
