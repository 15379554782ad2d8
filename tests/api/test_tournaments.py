"""The tournaments API: listings, detail with your entry, join, standings, results, and the operators' routes."""

from datetime import timedelta

import pytest

from imperioApp.services.competitions import closing, entries
from imperioApp.services.core.errors import Forbidden
from tests.tournaments import create, join, move_clock, now, spin

from .helpers import assert_error, assert_ledger_holds

ISO = "%Y-%m-%dT%H:%M:%S+00:00"


def _body(**overrides):
    body = {
        "title": "Friday slots race",
        "metric": "net_win",
        "game_types": ["slots"],
        "starts_at": (now() - timedelta(minutes=5)).strftime(ISO),
        "ends_at": (now() + timedelta(hours=2)).strftime(ISO),
        "entry_fee": 10,
        "prize_pool": {"mode": "entry_fees", "rake_percent": 10},
        "payouts": [70, 30],
    }
    body.update(overrides)
    return body


def test_a_tournament_from_definition_to_paid_results(app, client, make_player, make_admin, reels, monkeypatch):
    admin = make_admin()
    created = client.post("/admin/tournaments", json=_body(), headers=admin.headers)
    assert created.status_code == 201, created.get_json()
    tournament = created.get_json()
    assert tournament["status"] == "running" and tournament["period"]["phase"] == "running"
    alice, bob = make_player(balance=100), make_player(balance=100)
    first = join(client, alice, tournament["id"], key="join-1")
    assert first.status_code == 201 and first.get_json()["balance"] == 90
    again = join(client, alice, tournament["id"], key="join-1")
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json() == first.get_json()
    assert_error(join(client, alice, tournament["id"]), 409, "already_joined")
    assert join(client, bob, tournament["id"]).status_code == 201
    reels("two_bananas")
    spin(client, alice, 5)  # net +15
    reels(None)
    spin(client, bob, 5)  # net -5
    detail = client.get(f"/tournaments/{tournament['id']}", headers=alice.headers).get_json()
    assert detail["entry"] == {"score": 15, "rank": 1, "rounds": 1} and detail["period"]["entrants"] == 2
    board = client.get(f"/tournaments/{tournament['id']}/standings", headers=bob.headers).get_json()
    assert [(item["username"], item["score"]) for item in board["items"]] == [(alice.username, 15), (bob.username, -5)]
    around = client.get(f"/tournaments/{tournament['id']}/standings?around=me&limit=1", headers=bob.headers).get_json()
    assert around["rank"] == 2 and [item["rank"] for item in around["items"]] == [2]
    mine = client.get("/tournaments?mine=true&status=running", headers=bob.headers).get_json()
    assert [item["id"] for item in mine["items"]] == [tournament["id"]]
    assert client.get("/tournaments?status=upcoming", headers=bob.headers).get_json()["items"] == []
    assert_error(client.get(f"/tournaments/{tournament['id']}/results", headers=bob.headers), 409, "period_not_closed")
    check = client.get(f"/admin/tournaments/{tournament['id']}/check", headers=admin.headers).get_json()
    assert check["ok"] and check["entries_checked"] == 2
    ended = client.post(f"/admin/tournaments/{tournament['id']}/end", headers=admin.headers)
    assert ended.status_code == 200 and ended.get_json()["closed"], ended.get_json()
    results = client.get(f"/tournaments/{tournament['id']}/results", headers=bob.headers).get_json()
    # fees 20, rake 2, pool 18: 70 % is 12.6 -> 12, 30 % is 5.4 -> 5, the remainder 1 to rank 1.
    assert results["pool"] == 18
    assert [(item["rank"], item["prize"], item["paid"]) for item in results["items"]] == [(1, 13, True), (2, 5, True)]
    notes = client.get("/notifications", headers=alice.headers).get_json()["items"]
    assert notes[0]["type"] == "tournament_prize" and notes[0]["payload"]["prize"] == 13
    assert_error(client.post(f"/admin/tournaments/{tournament['id']}/end", headers=admin.headers), 409, "tournament_closed")
    assert_error(join(client, make_player(), tournament["id"]), 409, "tournament_closed")
    assert_ledger_holds(app)


def test_changes_only_before_the_start_and_cancel_refunds(app, client, make_player, make_admin):
    admin = make_admin()
    upcoming = client.post(
        "/admin/tournaments",
        json=_body(starts_at=(now() + timedelta(hours=1)).strftime(ISO), ends_at=(now() + timedelta(hours=3)).strftime(ISO)),
        headers=admin.headers,
    ).get_json()
    assert upcoming["status"] == "upcoming"
    changed = client.patch(f"/admin/tournaments/{upcoming['id']}", json={"title": "Renamed race"}, headers=admin.headers)
    assert changed.status_code == 200 and changed.get_json()["title"] == "Renamed race"
    player = make_player(balance=50)
    assert join(client, player, upcoming["id"]).status_code == 201
    assert_error(
        client.patch(f"/admin/tournaments/{upcoming['id']}", json={"entry_fee": 1}, headers=admin.headers),
        409,
        "tournament_has_entrants",
    )
    cancelled = client.post(f"/admin/tournaments/{upcoming['id']}/cancel", headers=admin.headers).get_json()
    assert cancelled["refunded"] == 1
    assert client.get("/getCoins", headers=player.headers).get_json()["coins"] == 50
    running = create(app, admin)
    assert_error(
        client.patch(f"/admin/tournaments/{running['id']}", json={"title": "Too late"}, headers=admin.headers),
        409,
        "tournament_closed",
    )
    audit = client.get("/admin/audit?action=tournament_cancel", headers=admin.headers).get_json()["items"]
    assert audit and audit[0]["details"] == {"tournament_id": upcoming["id"]}
    assert_ledger_holds(app)


def test_the_fee_is_a_stake_for_limits_and_protection_refuses_joining(app, client, make_player, make_admin):
    admin = make_admin()
    tournament = create(app, admin, entry_fee=30)
    limited, resting = make_player(balance=100), make_player(balance=100)
    assert (
        client.put(
            "/protection/limits", json={"kind": "wager", "period": "day", "amount": 20}, headers=limited.headers
        ).status_code
        == 200
    )
    assert_error(join(client, limited, tournament["id"]), 409, "limit_reached")
    assert client.post("/protection/timeout", json={"hours": 24}, headers=resting.headers).status_code in (200, 201)
    # A time-out ends the player's sessions; a game token or a new login would still be refused.
    with app.app_context(), pytest.raises(Forbidden) as refused:
        entries.join(resting.id, tournament["id"])
    assert refused.value.code == "timed_out"
    assert_error(join(client, make_player(balance=5), tournament["id"]), 409, "insufficient_funds")
    assert client.get(f"/tournaments/{tournament['id']}", headers=limited.headers).get_json()["period"]["entrants"] == 0
    assert_ledger_holds(app)


def test_the_close_due_command_closes_once(app, client, runner, make_player, make_admin, reels, monkeypatch):
    admin = make_admin()
    tournament = create(app, admin)
    player = make_player(balance=100)
    join(client, player, tournament["id"])
    reels(None)
    spin(client, player, 3)
    move_clock(monkeypatch, tournament["period"]["ends_at"] + timedelta(seconds=1))
    first = runner.invoke(args=["tournaments", "close-due"])
    assert first.exit_code == 0 and "closed" in first.output, first.output
    second = runner.invoke(args=["tournaments", "close-due"])
    assert second.exit_code == 0 and "nothing due" in second.output
    check = runner.invoke(args=["tournaments", "check", str(tournament["id"])])
    assert check.exit_code == 0, check.output
    assert client.get(f"/tournaments/{tournament['id']}/results", headers=player.headers).get_json()["items"][0]["prize"] == 100
    assert_ledger_holds(app)


def test_with_a_grace_an_ended_period_waits_for_close_due(app, client, make_admin, monkeypatch):
    admin = make_admin()
    tournament = create(app, admin)
    monkeypatch.setitem(app.config, "TOURNAMENT_CLOSE_GRACE_SECONDS", 5)
    ended = client.post(f"/admin/tournaments/{tournament['id']}/end", headers=admin.headers).get_json()
    assert ended["closed"] is False
    move_clock(monkeypatch, now() + timedelta(seconds=6))
    with app.app_context():
        assert closing.close_due()[0]["closed"]


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"title": 5},
        {"title": "ab"},
        {"metric": "luck"},
        {"game_types": ["poker"]},
        {"game_types": []},
        {"min_bet": 1.5},
        {"min_bet": -1},
        {"min_bet": 2**63},
        {"min_bet": "5"},
        {"entry_fee": True},
        {"payouts": [60, 30]},
        {"payouts": [30, 70]},
        {"payouts": [100.0]},
        {"prize_pool": {"mode": "fixed", "rake_percent": 5}},
        {"prize_pool": {"mode": "entry_fees", "amount": 5}},
        {"prize_pool": {"mode": "lottery"}},
        {"prize_pool": {"mode": "entry_fees", "rake_percent": 101}},
        {"ends_at": "yesterday"},
        {"ends_at": (now() - timedelta(hours=2)).strftime(ISO)},
        {"duration_seconds": 600},
        {"repeat_every_seconds": 60},
        {"repeat_count": 2},
        {"join_required": False},
        {"join_required": "no"},
        {"max_rounds": 0},
        {"unknown": 1},
    ],
)
def test_a_bad_definition_is_refused_and_writes_nothing(app, client, make_admin, change):
    admin = make_admin()
    response = client.post("/admin/tournaments", json=_body(**change), headers=admin.headers)
    assert 400 <= response.status_code < 500 and "error" in response.get_json(), response.get_json()
    assert client.get("/tournaments", headers=admin.headers).get_json()["items"] == []


def test_missing_fields_malformed_json_and_non_admins(app, client, make_player, make_admin):
    admin, player = make_admin(), make_player()
    for missing in ("title", "metric", "starts_at"):
        body = _body()
        del body[missing]
        assert_error(client.post("/admin/tournaments", json=body, headers=admin.headers), 422)
    malformed = client.post("/admin/tournaments", data="{", headers={**admin.headers, "Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert_error(client.post("/admin/tournaments", json=_body(), headers=player.headers), 403)
    tournament = create(app, admin)
    for path in ("end", "cancel"):
        assert_error(client.post(f"/admin/tournaments/{tournament['id']}/{path}", headers=player.headers), 403)
    assert_error(client.get(f"/admin/tournaments/{tournament['id']}/check", headers=player.headers), 403)
    assert_error(client.patch(f"/admin/tournaments/{tournament['id']}", json={"title": "Mine now"}, headers=player.headers), 403)
    assert client.get("/tournaments", headers=admin.headers).get_json()["items"][0]["title"] == "Weekend race"


@pytest.mark.parametrize(
    "path",
    [
        "/tournaments?status=over",
        "/tournaments?game_type=poker",
        "/tournaments?limit=0",
        "/tournaments?limit=101",
        "/tournaments?cursor=-1",
        "/tournaments?cursor=1.5",
        "/tournaments/{id}/standings?around=you",
        "/tournaments/{id}/standings?period=0",
        "/tournaments/{id}/standings?limit=1000",
        "/tournaments/{id}/results?period=abc",
        "/tournaments/{id}/standings?period=99",
        "/tournaments/999999/standings",
        "/tournaments/999999",
        "/tournaments/99999999999999999999",
    ],
)
def test_bad_reads_are_clear_4xx(app, client, make_player, make_admin, path):
    tournament = create(app, make_admin())
    response = client.get(path.format(id=tournament["id"]), headers=make_player().headers)
    assert 400 <= response.status_code < 500 and "error" in response.get_json(), response.get_json()


def test_joining_what_does_not_exist_or_with_a_bad_key(app, client, make_player, make_admin):
    player = make_player()
    assert_error(join(client, player, 999_999), 404, "tournament_not_found")
    tournament = create(app, make_admin())
    assert_error(join(client, player, tournament["id"], key="a key with spaces"), 400, "invalid_idempotency_key")
    assert_error(client.get(f"/tournaments/{tournament['id']}/standings?around=me", headers=player.headers), 404, "not_entered")
    assert_error(client.post(f"/admin/tournaments/{tournament['id']}/end", headers=player.headers), 403)


def test_around_me_at_rank_one_and_at_the_bottom(app, client, make_player, make_admin, reels):
    """Nakama #224/#755: the window stays full at the edges of the standings."""
    tournament = create(app, make_admin())
    players = [make_player(balance=100) for _ in range(5)]
    reels(None)
    for bet, player in enumerate(players, 1):
        assert join(client, player, tournament["id"]).status_code == 201
        spin(client, player, 6 - bet)  # players[0] first

    def window(player, limit):
        body = client.get(f"/tournaments/{tournament['id']}/standings?around=me&limit={limit}", headers=player.headers)
        assert body.status_code == 200, body.get_json()
        return body.get_json()["rank"], [item["rank"] for item in body.get_json()["items"]]

    assert window(players[0], 3) == (1, [1, 2, 3])
    assert window(players[4], 3) == (5, [4, 5])
    assert window(players[4], 1) == (5, [5])
    assert window(players[2], 100) == (3, [1, 2, 3, 4, 5])


def test_mine_lists_the_tournaments_you_entered_whatever_their_state(app, client, make_player, make_admin, monkeypatch):
    """Nakama #654: "my tournaments", finished ones included, nobody else's."""
    admin, me, other = make_admin(), make_player(balance=100), make_player(balance=100)
    entered = create(app, admin, title="Entered race")
    finished = create(app, admin, title="Finished race")
    create(app, admin, title="Someone else's race")
    upcoming = create(app, admin, title="Upcoming race", starts_at=now() + timedelta(days=1), ends_at=now() + timedelta(days=2))
    for tournament in (entered, finished, upcoming):
        assert join(client, me, tournament["id"]).status_code == 201
    assert join(client, other, upcoming["id"]).status_code == 201
    assert client.post(f"/admin/tournaments/{finished['id']}/end", headers=admin.headers).status_code == 200

    def mine(query=""):
        body = client.get(f"/tournaments?mine=true{query}", headers=me.headers).get_json()
        return [item["title"] for item in body["items"]]

    assert mine() == ["Upcoming race", "Finished race", "Entered race"]
    assert mine("&status=finished") == ["Finished race"]
    assert mine("&status=upcoming") == ["Upcoming race"]
    assert mine("&limit=1") == ["Upcoming race"]
    others = client.get("/tournaments?mine=true", headers=other.headers).get_json()["items"]
    assert [item["title"] for item in others] == ["Upcoming race"]
