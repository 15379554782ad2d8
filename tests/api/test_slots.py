"""Cherry Charm over HTTP: the old client's contract, the ledger, idempotency, bad input."""

import pytest
from sqlalchemy import select

from imperioApp.extensions import db
from imperioApp.games import slots
from imperioApp.models import LedgerEntry
from tests.concurrency import race

from .helpers import assert_documented, assert_error, money_snapshot


def test_the_cherry_charm_client_spin(client, player):
    """Exactly what the Cherry Charm frontend sends: POST /spin with no body, then reads two fields."""
    response = client.post("/spin", headers=player.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert len(body["stopSegments"]) == 3 and all(15 <= s <= 30 for s in body["stopSegments"])
    positions = [slots.segment_to_position(s) for s in body["stopSegments"]]
    assert body["fruits"] == [slots.fruit_at(reel, p) for reel, p in enumerate(positions)]
    assert body["totalCoins"] == 1000 - 1 + body["payout"]
    assert body["payout"] == body["multiplier"] * 1
    assert client.get("/getCoins", headers=player.headers).get_json() == {"coins": body["totalCoins"]}


def test_the_spin_answer_is_exactly_its_documented_schema(client, player):
    from imperioApp.api.games import SpinResultSchema

    body = client.post("/spin", json={"bet": 2}, headers=player.headers).get_json()
    assert_documented(SpinResultSchema(), body)
    assert set(body) == set(SpinResultSchema().fields)
    assert set(body["fairness"]) == {"server_seed_hash", "client_seed", "nonce"}


def test_spin_writes_bet_and_win_rows_for_the_round(app, client, make_player):
    player = make_player(balance=500)
    seen_win = False
    for _ in range(40):
        body = client.post("/spin", json={"bet": 10}, headers=player.headers).get_json()
        with app.app_context():
            rows = db.session.execute(
                select(LedgerEntry.type, LedgerEntry.amount)
                .where(LedgerEntry.round_id == body["round_id"])
                .order_by(LedgerEntry.id)
            ).all()
        expected = [("bet", -10)] + ([("win", body["payout"])] if body["payout"] else [])
        assert rows == expected
        seen_win |= body["payout"] > 0
    assert seen_win


def test_each_spin_consumes_one_nonce(client, player):
    nonces = [client.post("/spin", json={"bet": 1}, headers=player.headers).get_json()["fairness"]["nonce"] for _ in range(3)]
    assert nonces == [0, 1, 2]
    assert client.get("/fairness", headers=player.headers).get_json()["nonce"] == 3


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"bet": 0}, 422),
        ({"bet": -5}, 422),
        ({"bet": 1.5}, 422),
        ({"bet": 2.0}, 422),
        ({"bet": "5"}, 422),
        ({"bet": True}, 422),
        ({"bet": None}, 422),
        ({"bet": 2**63}, 422),
        ({"bet": 10**30}, 422),
        ({"bet": 101}, 422),
        ({"bet": 5, "odds": 1000}, 422),
        ([5], 422),
    ],
)
def test_bad_bets_are_refused_and_move_nothing(app, client, player, body, status):
    before = money_snapshot(app, player.id)
    assert_error(client.post("/spin", json=body, headers=player.headers), status)
    assert money_snapshot(app, player.id) == before


def test_malformed_json_moves_nothing(app, client, player):
    before = money_snapshot(app, player.id)
    assert_error(client.post("/spin", data='{"bet": 5', content_type="application/json", headers=player.headers), 400)
    assert money_snapshot(app, player.id) == before


def test_a_bet_above_the_balance_is_refused(app, client, make_player):
    player = make_player(balance=3)
    before = money_snapshot(app, player.id)
    assert_error(client.post("/spin", json={"bet": 5}, headers=player.headers), 409, "insufficient_funds")
    assert money_snapshot(app, player.id) == before


def test_spin_needs_a_token(client):
    assert_error(client.post("/spin"), 401)


def test_a_retried_spin_returns_the_first_result(app, client, player):
    headers = {**player.headers, "Idempotency-Key": "spin-1"}
    first = client.post("/spin", json={"bet": 3}, headers=headers)
    again = client.post("/spin", json={"bet": 3}, headers=headers)
    assert first.get_data() == again.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert money_snapshot(app, player.id)["rounds"] == 1
    assert_error(client.post("/spin", json={"bet": 4}, headers=headers), 409, "idempotency_key_reused")
    assert_error(client.post("/spin", json={"bet": 3}, headers={**player.headers, "Idempotency-Key": "x" * 300}), 400)


def test_ten_concurrent_retries_spin_once(app, client, player):
    headers = {**player.headers, "Idempotency-Key": "burst"}

    def send():
        response = app.test_client().post("/spin", json={"bet": 7}, headers=headers)
        return response.status_code, response.get_data()

    bodies = race(app, 10, send)
    assert len(bodies) == 10 and {status for status, _ in bodies} == {200}
    assert len({body for _, body in bodies}) == 1
    snapshot = money_snapshot(app, player.id)
    assert snapshot["rounds"] == 1 and snapshot["nonce"] == 1
