"""Live tournaments: join_tournament sends the standings, changes are pushed once per interval, a close is announced."""

from tests.tournaments import create, join, spin

from .helpers import end_interval


def test_join_tournament_then_coalesced_standings_and_the_close(app, client, connect, make_player, make_admin, reels, ticks):
    admin = make_admin()
    player = make_player(balance=1000)
    tournament = create(app, admin)
    sock = connect(player)
    reply = sock.emit("join_tournament", {"tournament_id": tournament["id"]})
    assert reply["standings"] == [] and sock.take("tournament_standings") == [reply]
    assert join(client, player, tournament["id"]).status_code == 201
    reels(None)
    for bet in (1, 2, 3):  # a burst inside one interval
        spin(client, player, bet)
    ticks.settle()
    assert sock.events("tournament_standings") == []
    end_interval(ticks)
    pushed = sock.take("tournament_standings")
    assert len(pushed) == 1 and pushed[0]["standings"][0]["score"] == 6
    assert client.post(f"/admin/tournaments/{tournament['id']}/end", headers=admin.headers).get_json()["closed"]
    closed = sock.wait("tournament_closed")
    assert closed[0]["tournament_id"] == tournament["id"] and closed[0]["pool"] == 100


def test_join_tournament_refuses_bad_input(connect, player):
    sock = connect(player)
    for payload in ({}, {"tournament_id": "1"}, {"tournament_id": 1.5}, {"tournament_id": 0}, {"tournament_id": 2**63}):
        sock.emit("join_tournament", payload)
        assert sock.error()["code"] == "validation_error"
    sock.emit("join_tournament", {"tournament_id": 424242})
    assert sock.error()["code"] == "tournament_not_found"
