"""Connecting and authenticating sockets; refusing everything else until then; logout."""

from datetime import timedelta

import pytest

from imperioApp.extensions import socketio
from imperioApp.services.core import events
from tests.factories import access_token

from .helpers import assert_error


def test_a_token_in_the_connect_auth_authenticates_at_once(connect, player):
    sock = connect(player)
    assert sock.connected
    assert sock.events("authenticated") == [{"status": "ok", "username": player.username, "user_id": player.id}]


def test_an_anonymous_socket_may_only_authenticate(connect, player):
    sock = connect()
    assert sock.connected and sock.events("authenticated") == []
    for name, payload in [
        ("join_chat", {"room": "lobby"}),
        ("send_chat_message", {"room": "lobby", "message": "hi"}),
        ("join_leaderboard", {"metric": "games_played", "timeframe": "daily"}),
        ("create_multiplayer_room", {"game_type": "slots", "max_players": 2}),
        ("join_multiplayer_room", {"room_id": "abc"}),
        ("leave_multiplayer_room", {"room_id": "abc"}),
        ("mute_user", {"username": "x", "minutes": 1}),
    ]:
        sock.emit(name, payload)
        assert_error(sock, "unauthenticated", name)
    reply = sock.emit("authenticate", {"token": player.tokens["access_token"]})
    assert reply == {"status": "ok", "username": player.username, "user_id": player.id}
    assert sock.events("authenticated") == [reply]
    sock.emit("join_chat", {"room": "lobby"})
    assert sock.events("chat_history")


@pytest.mark.parametrize(
    "payload, code",
    [
        ({}, "validation_error"),
        ({"token": 42}, "validation_error"),
        ({"token": None}, "validation_error"),
        ("not an object", "validation_error"),
        ({"token": "garbage"}, "invalid_token"),
        ({"token": "a" * 5000}, "invalid_token"),
    ],
)
def test_bad_authenticate_payloads_are_refused_and_the_socket_stays(connect, payload, code):
    sock = connect()
    sock.emit("authenticate", payload)
    assert_error(sock, code, "authenticate")
    assert sock.events("authenticated") == []


def test_expired_revoked_and_refresh_tokens_are_refused(app, connect, client, player):
    expired = access_token(app, player, expires_delta=timedelta(seconds=-5))
    sock = connect()
    sock.emit("authenticate", {"token": expired})
    assert_error(sock, "token_expired")
    sock.emit("authenticate", {"token": player.tokens["refresh_token"]})
    assert_error(sock, "invalid_token")
    assert client.post("/logout", headers=player.headers).status_code in (200, 204)
    sock.emit("authenticate", {"token": player.tokens["access_token"]})
    assert_error(sock, "token_revoked")
    assert sock.events("authenticated") == []


def test_a_bad_token_in_the_connect_auth_refuses_the_connection(app, connect, player):
    expired = access_token(app, player, expires_delta=timedelta(seconds=-5))
    assert not connect(token=expired).connected
    assert not connect(token="garbage").connected


def test_a_socket_cannot_switch_to_another_user(connect, player, make_player):
    other = make_player()
    sock = connect(player)
    sock.emit("authenticate", {"token": other.tokens["access_token"]})
    assert_error(sock, "already_authenticated")
    # Re-authenticating as the same user (a refreshed token) is fine.
    assert sock.emit("authenticate", {"token": player.tokens["access_token"]})["user_id"] == player.id


def test_logging_out_disconnects_every_socket_of_that_user_only(connect, client, player, make_player):
    other = make_player()
    mine = [connect(player), connect(player)]
    theirs = connect(other)
    assert client.post("/logout", headers=player.headers).status_code in (200, 204)
    assert [sock.connected for sock in mine] == [False, False]
    assert theirs.connected


def test_events_nobody_handles_are_answered_with_an_error(connect, player):
    sock = connect(player)
    sock.emit("no_such_event", {"x": 1})
    assert_error(sock, "unknown_event", "no_such_event")


def test_oversized_payloads_are_refused_and_the_socket_stays(connect, player):
    sock = connect(player)
    sock.emit("join_chat", {"room": "lobby", "padding": "x" * 20_000})
    assert_error(sock, "payload_too_large", "join_chat")


def test_each_socket_joins_its_users_private_room(app, connect, player, make_player):
    other = make_player()
    mine, theirs = connect(player), connect(other)
    with app.test_request_context():
        events.bus().publish(events.NOTIFICATION, {"user_id": player.id, "notification": {"id": 7, "type": "system"}})
    assert mine.events("new_notification") == [{"notification": {"id": 7, "type": "system"}}]
    assert theirs.events("new_notification") == []
    assert f"user:{player.id}" in socketio.server.manager.rooms["/"]


@pytest.mark.parametrize(
    ("configured", "engineio_sees"),
    [([], None), (["*"], "*"), (["https://play.example.com"], ["https://play.example.com"])],
)
def test_socket_origins_follow_cors_origins(configured, engineio_sees):
    """No configured origin means same-origin only, never 'no check at all'."""
    from imperioApp.realtime import allowed_socket_origins

    assert allowed_socket_origins(configured) == engineio_sees
