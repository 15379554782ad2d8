"""The list of open public tables: over REST and Socket.IO, updated as tables open, fill, bet and close."""

import pytest

from .helpers import end_interval
from .test_table import RED, seat


@pytest.fixture(autouse=True)
def betting_window(app, monkeypatch, ticks):
    monkeypatch.setitem(app.config, "TABLE_BETTING_SECONDS", 3.0)


def listed(client, player):
    response = client.get("/tables", headers=player.headers)
    assert response.status_code == 200, response.text
    return response.get_json()["tables"]


def test_public_tables_are_listed_with_seats_and_betting_window(app, client, connect, player, make_player, ticks):
    watcher_player = make_player()
    watcher = connect(watcher_player)
    first = watcher.emit("watch_tables")
    assert first == {"tables": []} and watcher.take("tables_update") == [{"tables": []}]

    host, room_id = seat(connect, player)
    update = watcher.wait("tables_update")[-1]["tables"]
    assert [(t["room_id"], t["players"], t["seats_taken"], t["max_players"]) for t in update] == [
        (room_id, [player.username], 1, 4)
    ]
    assert update[0]["betting_open"] is False and update[0]["closes_in"] is None and update[0]["host"] == player.username
    assert listed(client, player) == update

    # A private table is never listed; its seats change nothing in the list.
    private_host = connect(make_player())
    private = private_host.emit("create_multiplayer_room", {"game_type": "roulette", "max_players": 2, "private": True})
    assert "invite_code" in private
    assert [t["room_id"] for t in listed(client, player)] == [room_id]

    guest, _ = seat(connect, watcher_player, room_id)
    watcher.take("tables_update")
    host.emit("place_table_bet", {"room_id": room_id, "bets": [RED]})
    betting = watcher.wait("tables_update")[-1]["tables"][0]
    assert betting["betting_open"] is True and 1 <= betting["closes_in"] <= 3
    assert betting["players"] == [player.username, watcher_player.username]
    # Someone joining during the window learns how long it has left.
    joined = connect(make_player()).emit("join_multiplayer_room", {"room_id": room_id})
    assert 1 <= joined["closes_in"] <= 3

    watcher.take("tables_update")
    end_interval(ticks)
    assert listed(client, player)[0]["betting_open"] is False
    assert watcher.wait("tables_update")

    assert watcher.emit("unwatch_tables") == {"watching": False}
    watcher.take("tables_update")
    host.emit("leave_multiplayer_room", {"room_id": room_id})
    assert watcher.events("tables_update") == []  # no longer watching


def test_the_list_needs_a_signed_in_player(client, connect, player):
    response = client.get("/tables")
    assert response.status_code == 401 and response.get_json()["error"]["code"]
    anonymous = connect()
    reply = anonymous.emit("watch_tables")
    assert reply["error"]["code"] == "unauthenticated"


def test_closed_tables_leave_the_list(client, connect, player):
    host, room_id = seat(connect, player)
    assert [t["room_id"] for t in listed(client, player)] == [room_id]
    host.emit("leave_multiplayer_room", {"room_id": room_id})
    assert listed(client, player) == []
