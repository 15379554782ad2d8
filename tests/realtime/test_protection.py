"""Protection over Socket.IO: exclusion ends live sockets and shuts chat and tables; reality
checks reach the player's sockets; operators' locks and bans act on sockets at once."""

from datetime import datetime, timedelta, timezone

import pytest

from imperioApp.extensions import db
from imperioApp.games import roulette
from imperioApp.models import PlayerExclusion
from imperioApp.models.base import utcnow
from imperioApp.services.core.errors import Forbidden
from imperioApp.services.protection import periods
from imperioApp.services.social import tables
from tests.api.helpers import money_snapshot
from tests.factories import log_in_again

from .helpers import assert_error

RED = [roulette.make_bet("red", 10)]


def exclude(client, player):
    """Self-exclude the player, then log them in again (the exclusion ended every session)."""
    response = client.post("/protection/self-exclusion", json={"months": 12, "password": player.password}, headers=player.headers)
    assert response.status_code == 201
    log_in_again(client.application, player)


def test_self_exclusion_ends_every_live_socket_of_that_player_only(client, connect, player, make_player):
    other = make_player()
    mine = [connect(player), connect(player)]
    theirs = connect(other)
    exclude(client, player)
    assert [sock.connected for sock in mine] == [False, False]
    assert theirs.connected


def test_an_excluded_player_may_watch_but_not_chat_or_sit_at_tables(client, connect, player):
    exclude(client, player)
    sock = connect(player)  # logging in and connecting still work: history, balance, boards
    assert sock.connected
    sock.emit("join_chat", {"room": "lobby"})
    assert_error(sock, "self_excluded", "join_chat")
    sock.emit("send_chat_message", {"room": "lobby", "message": "hi"})
    assert_error(sock, "not_in_room")
    sock.emit("create_multiplayer_room", {"game_type": "roulette", "max_players": 4})
    assert_error(sock, "self_excluded")


def test_an_excluded_player_cannot_join_a_table_or_stake_on_a_shared_spin(app, client, connect, player, make_player):
    host = make_player()
    host_sock = connect(host)
    room_id = host_sock.emit("create_multiplayer_room", {"game_type": "roulette", "max_players": 4})["room_id"]
    exclude(client, player)
    sock = connect(player)
    sock.emit("join_multiplayer_room", {"room_id": room_id})
    assert_error(sock, "self_excluded")
    before = money_snapshot(app, player.id)
    with app.app_context():
        with pytest.raises(Forbidden) as first:
            tables.open_spin(host.id, player.id, room_id, RED)  # the stake that opens a spin
        spin, _ = tables.open_spin(host.id, host.id, room_id, RED)
        with pytest.raises(Forbidden) as joining:
            tables.place_spin_bet(player.id, room_id, spin, RED)  # a stake on a spin already open
        tables.settle_spin(spin["seed_id"], spin["nonce"])
    assert first.value.code == joining.value.code == "self_excluded"
    assert money_snapshot(app, player.id) == before


def test_an_excluded_players_chat_message_is_refused_even_from_a_socket_in_the_room(app, connect, player):
    sock = connect(player)
    sock.emit("join_chat", {"room": "lobby"})
    with app.app_context():
        # Excluded without the disconnect (as if the event were lost): the service still refuses.
        db.session.add(
            PlayerExclusion(user_id=player.id, kind="timeout", starts_at=utcnow(), ends_at=utcnow() + timedelta(days=1))
        )
        db.session.commit()
        db.session.remove()
    sock.emit("send_chat_message", {"room": "lobby", "message": "hello"})
    assert_error(sock, "timed_out", "send_chat_message")


def test_the_reality_check_reaches_the_players_socket(client, connect, player, monkeypatch):
    now = [datetime.now(timezone.utc) - timedelta(minutes=30)]
    monkeypatch.setattr(periods, "clock", lambda: now[0])
    client.put("/protection/reality-check", json={"minutes": 10}, headers=player.headers)
    sock = connect(player)
    client.post("/spin", json={"bet": 1}, headers=player.headers)
    now[0] += timedelta(minutes=10)
    client.post("/spin", json={"bet": 1}, headers=player.headers)
    notices = sock.wait("reality_check")
    assert len(notices) == 1 and notices[0]["elapsed_seconds"] == 600 and "user_id" not in notices[0]


def test_an_operator_lock_ends_sockets_and_a_rest_ban_empties_chat_rooms(client, connect, player, make_admin):
    admin = make_admin()
    chatting = connect(player)
    chatting.emit("join_chat", {"room": "lobby"})
    listener = connect(admin)
    listener.emit("join_chat", {"room": "lobby"})
    banned = client.post(f"/admin/players/{player.id}/chat/ban", json={"reason": "abuse"}, headers=admin.headers)
    assert banned.status_code == 200
    listener.emit("send_chat_message", {"room": "lobby", "message": "still here?"})
    listener.wait("chat_message")
    assert chatting.events("chat_message") == []  # the banned socket left the room
    locked = client.post(f"/admin/players/{player.id}/lock", json={"reason": "fraud check"}, headers=admin.headers)
    assert locked.status_code == 200
    assert not chatting.connected and listener.connected
