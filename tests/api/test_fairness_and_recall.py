"""Provably fair seeds, verification of past rounds, and game recall."""

import hashlib

import pytest

from .helpers import assert_error


def test_the_commitment_is_published_before_play(client, player):
    body = client.get("/fairness", headers=player.headers).get_json()
    assert len(body["server_seed_hash"]) == 64 and body["nonce"] == 0 and body["client_seed"]
    assert "server_seed" not in body


def test_rotation_reveals_the_committed_seed_and_starts_a_new_pair(client, player):
    before = client.get("/fairness", headers=player.headers).get_json()
    client.post("/spin", headers=player.headers)
    rotated = client.post("/fairness/rotate", headers=player.headers).get_json()
    revealed = rotated["revealed"]
    assert hashlib.sha256(revealed["server_seed"].encode()).hexdigest() == before["server_seed_hash"]
    assert revealed["rounds_played"] == 1
    assert rotated["active"]["nonce"] == 0
    assert rotated["active"]["server_seed_hash"] != before["server_seed_hash"]
    assert rotated["active"]["client_seed"] == before["client_seed"]


def test_every_game_can_be_recomputed_after_rotation(client, player):
    client.post("/fairness/client-seed", json={"client_seed": "my-lucky-seed"}, headers=player.headers)
    spin = client.post("/spin", json={"bet": 2}, headers=player.headers).get_json()
    wheel = client.post("/roulette/spin", json={"bets": [{"type": "red", "amount": 3}]}, headers=player.headers).get_json()
    hand = client.post("/blackjack/start", json={"wager": 4}, headers=player.headers).get_json()
    if not hand["game_over"]:
        hand = client.post(
            "/blackjack/action", json={"action": "stand", "game_id": hand["id"]}, headers=player.headers
        ).get_json()

    recalled = {
        rid: client.get(f"/games/{rid}", headers=player.headers).get_json()
        for rid in (spin["round_id"], wheel["round_id"], hand["id"])
    }
    assert all(r["fairness"]["server_seed"] is None for r in recalled.values())
    seed = client.post("/fairness/rotate", headers=player.headers).get_json()["revealed"]["server_seed"]

    for round_id, game in ((spin["round_id"], "slots"), (wheel["round_id"], "roulette"), (hand["id"], "blackjack")):
        stored = client.get(f"/games/{round_id}", headers=player.headers).get_json()
        assert stored["fairness"]["server_seed"] == seed
        assert stored["fairness"]["client_seed"] == "my-lucky-seed"
        check = client.post(
            "/fairness/verify",
            json={
                "game": game,
                "server_seed": seed,
                "client_seed": "my-lucky-seed",
                "nonce": stored["fairness"]["nonce"],
                "inputs": stored["inputs"],
            },
        )
        assert check.status_code == 200, check.get_json()
        result = check.get_json()
        assert result["seed_revealed_here"] is True
        assert result["server_seed_hash"] == stored["fairness"]["server_seed_hash"]
        assert result["outcome"] == stored["outcome"]
    assert recalled[spin["round_id"]]["outcome"]["segments"] == spin["stopSegments"]


def test_rotation_is_refused_while_a_blackjack_game_is_open(client, player):
    for _ in range(20):
        state = client.post("/blackjack/start", json={"wager": 1}, headers=player.headers).get_json()
        if not state["game_over"]:
            break
    assert_error(client.post("/fairness/rotate", headers=player.headers), 409, "open_round")
    client.post("/blackjack/action", json={"action": "stand", "game_id": state["id"]}, headers=player.headers)
    assert client.post("/fairness/rotate", headers=player.headers).status_code == 200


@pytest.mark.parametrize("seed", ["", "x" * 65, "has space", 42, None])
def test_bad_client_seeds_are_refused(client, player, seed):
    before = client.get("/fairness", headers=player.headers).get_json()
    response = client.post("/fairness/client-seed", json={"client_seed": seed}, headers=player.headers)
    assert response.status_code == 422
    assert client.get("/fairness", headers=player.headers).get_json() == before


@pytest.mark.parametrize(
    "body",
    [
        {"game": "poker", "server_seed": "a" * 64, "client_seed": "c", "nonce": 0},
        {"game": "slots", "server_seed": "short", "client_seed": "c", "nonce": 0},
        {"game": "slots", "server_seed": "g" * 64, "client_seed": "c", "nonce": 0},
        {"game": "slots", "server_seed": "a" * 64, "client_seed": "c", "nonce": -1},
        {"game": "slots", "server_seed": "a" * 64, "client_seed": "c", "nonce": 1.5},
        {"game": "roulette", "server_seed": "a" * 64, "client_seed": "c", "nonce": 0, "inputs": {"bets": "red"}},
        {"game": "blackjack", "server_seed": "a" * 64, "client_seed": "c", "nonce": 0, "inputs": {"wager": 0}},
        {"game": "slots", "server_seed": "a" * 64, "client_seed": "c"},
    ],
)
def test_bad_verification_requests_are_4xx(client, body):
    response = client.post("/fairness/verify", json=body)
    assert 400 <= response.status_code < 500
    assert_error(response, response.status_code)


def test_verification_of_an_unrevealed_seed_says_so(client):
    body = client.post(
        "/fairness/verify", json={"game": "slots", "server_seed": "a" * 64, "client_seed": "c", "nonce": 0}
    ).get_json()
    assert body["seed_revealed_here"] is False and len(body["outcome"]["segments"]) == 3


def test_history_pages_newest_first_and_filters(client, player):
    ids = [client.post("/spin", headers=player.headers).get_json()["round_id"] for _ in range(5)]
    wheel = client.post("/roulette/spin", json={"bets": [{"type": "odd", "amount": 1}]}, headers=player.headers).get_json()
    page = client.get("/games/history?limit=4", headers=player.headers).get_json()
    assert [i["id"] for i in page["items"]] == [wheel["round_id"], *ids[::-1][:3]]
    rest = client.get(f"/games/history?limit=4&cursor={page['next_cursor']}", headers=player.headers).get_json()
    assert [i["id"] for i in rest["items"]] == ids[1::-1] and rest["next_cursor"] is None
    slots_only = client.get("/games/history?game_type=slots&limit=100", headers=player.headers).get_json()
    assert {i["game_type"] for i in slots_only["items"]} == {"slots"} and len(slots_only["items"]) == 5


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=abc", "game_type=poker", "status=closed", "cursor=-1", "cursor=1.5"]
)
def test_bad_history_queries_are_422(client, player, query):
    assert_error(client.get(f"/games/history?{query}", headers=player.headers), 422)


def test_other_players_rounds_are_not_found(client, player, make_player):
    round_id = client.post("/spin", headers=player.headers).get_json()["round_id"]
    other = make_player()
    assert_error(client.get(f"/games/{round_id}", headers=other.headers), 404, "round_not_found")
    assert client.get("/games/history", headers=other.headers).get_json()["items"] == []


def test_open_blackjack_recall_hides_the_hole_card(client, player):
    for _ in range(20):
        state = client.post("/blackjack/start", json={"wager": 1}, headers=player.headers).get_json()
        if not state["game_over"]:
            break
    stored = client.get(f"/games/{state['id']}", headers=player.headers).get_json()
    assert stored["status"] == "open" and stored["net"] is None
    assert len(stored["outcome"]["dealer_hand"]) == 1
    hole = [e for e in stored["outcome"]["log"] if e.get("hole")]
    assert hole and hole[0]["card"] is None
    assert "shoe" not in str(stored)


@pytest.mark.parametrize("round_id", ["0", "-1", str(2**63), "99999999999999999999", "abc"])
def test_impossible_round_ids_are_404(client, player, round_id):
    assert_error(client.get(f"/games/{round_id}", headers=player.headers), 404)


@pytest.mark.parametrize("first_call", ["get", "client_seed", "spin"])
def test_an_account_without_a_seed_pair_gets_one_on_first_use(app, client, player, first_call):
    from imperioApp.extensions import db
    from imperioApp.models import FairnessSeed

    with app.app_context():
        db.session.query(FairnessSeed).filter_by(user_id=player.id).delete()
        db.session.commit()
    if first_call == "get":
        body = client.get("/fairness", headers=player.headers).get_json()
        assert body["nonce"] == 0 and len(body["server_seed_hash"]) == 64
    elif first_call == "client_seed":
        body = client.post("/fairness/client-seed", json={"client_seed": "fresh"}, headers=player.headers).get_json()
        assert body["client_seed"] == "fresh" and body["nonce"] == 0
    else:
        assert client.post("/spin", headers=player.headers).get_json()["fairness"]["nonce"] == 0
    assert client.get("/fairness", headers=player.headers).get_json()["nonce"] == (1 if first_call == "spin" else 0)
