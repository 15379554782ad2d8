"""European roulette over HTTP, in the new and the old client's formats."""

import pytest

from .helpers import assert_documented, assert_error, assert_ledger_holds, money_snapshot


def spin(client, player, bets):
    return client.post("/roulette/spin", json={"bets": bets}, headers=player.headers)


def test_bets_are_paid_at_standard_odds(client, player, pocket):
    pocket(17)
    bets = [
        {"type": "straight", "numbers": [17], "amount": 2},
        {"type": "split", "numbers": [17, 20], "amount": 2},
        {"type": "corner", "numbers": [13, 14, 16, 17], "amount": 2},
        {"type": "black", "amount": 5},
        {"type": "dozen", "index": 2, "amount": 3},
        {"type": "even", "amount": 4},
    ]
    body = spin(client, player, bets).get_json()
    assert body["winning_number"] == 17 and body["color"] == "black"
    assert [b["payout"] for b in body["bets"]] == [72, 36, 18, 10, 9, 0]
    assert body["total_bet"] == 18 and body["total_win"] == 145
    assert body["new_coins"] == 1000 - 18 + 145


def test_zero_loses_the_even_money_bets(client, player, pocket):
    pocket(0)
    body = spin(client, player, [{"type": t, "amount": 1} for t in ("red", "black", "odd", "even", "low", "high")]).get_json()
    assert body["total_win"] == 0 and body["new_coins"] == 994
    pocket(0)
    assert spin(client, player, [{"type": "trio", "numbers": [0, 1, 2], "amount": 1}]).get_json()["total_win"] == 12


def test_the_old_roulette_client(client, player, pocket):
    """Exactly the old client's request: its odds are ignored and the shape comes from the numbers."""
    pocket(2)
    response = client.post(
        "/roulette/action",
        json={
            "bet": [
                {"amt": 5, "numbers": "1,2,3", "odds": 1000, "type": "street"},
                {"amt": 1, "numbers": "2", "odds": 35, "type": "straight"},
            ]
        },
        headers=player.headers,
    )
    body = response.get_json()
    assert response.status_code == 200
    assert {"winning_number", "total_bet", "total_win", "new_coins"} <= set(body)
    assert body["winning_number"] == 2
    assert body["total_bet"] == 6
    assert body["total_win"] == 5 * 12 + 36
    assert body["new_coins"] == 1000 - 6 + 96


def test_the_old_client_leaves_zero_bets_for_removed_chips(client, player, pocket):
    pocket(5)
    body = client.post(
        "/roulette/action",
        json={
            "bet": [
                {"amt": 0, "numbers": "1, 2, 3", "odds": 11, "type": "street"},
                {"amt": 2, "numbers": "5", "odds": 35, "type": "straight"},
            ]
        },
        headers=player.headers,
    ).get_json()
    assert body["total_bet"] == 2 and body["total_win"] == 72


def test_only_zero_bets_is_no_bet(app, client, player):
    before = money_snapshot(app, player.id)
    response = client.post(
        "/roulette/action", json={"bet": [{"amt": 0, "numbers": "5", "odds": 35, "type": "x"}]}, headers=player.headers
    )
    assert_error(response, 422, "no_bets")
    assert money_snapshot(app, player.id) == before


@pytest.mark.parametrize(
    "bet",
    [
        {"amt": -1, "numbers": "5", "odds": 35, "type": "straight"},
        {"amt": 1.5, "numbers": "5", "odds": 35, "type": "straight"},
        {"amt": 5, "numbers": "1,5", "odds": 17, "type": "split"},
        {"amt": 5, "numbers": "1,2,3,4,5", "odds": 1, "type": "x"},
        {"amt": 5, "numbers": "37", "odds": 35, "type": "straight"},
        {"amt": 5, "numbers": "a,b", "odds": 35, "type": "straight"},
        {"amt": 5, "numbers": "1,1", "odds": 35, "type": "split"},
    ],
)
def test_the_old_client_format_rejects_bad_bets(app, client, player, bet):
    before = money_snapshot(app, player.id)
    response = client.post("/roulette/action", json={"bet": [bet]}, headers=player.headers)
    assert_error(response, 422 if not isinstance(bet["amt"], int) or bet["amt"] < 0 else 400)
    assert money_snapshot(app, player.id) == before


@pytest.mark.parametrize(
    ("bets", "status"),
    [
        ([{"type": "split", "numbers": [1, 3], "amount": 1}], 400),
        ([{"type": "corner", "numbers": [1, 2, 3, 4], "amount": 1}], 400),
        ([{"type": "street", "numbers": [1, 2, 3], "amount": 1}, {"type": "straight", "numbers": [40], "amount": 1}], 400),
        ([{"type": "dozen", "amount": 1}], 400),
        ([{"type": "red", "numbers": [1], "amount": 1}], 400),
        ([{"type": "poker", "amount": 1}], 422),
        ([{"type": "red", "amount": 0}], 422),
        ([{"type": "red", "amount": -3}], 422),
        ([{"type": "red", "amount": 1.5}], 422),
        ([{"type": "red", "amount": "1"}], 422),
        ([{"type": "red", "amount": True}], 422),
        ([{"type": "red", "amount": 2**63}], 422),
        ([{"type": "straight", "numbers": ["1"], "amount": 1}], 422),
        ([{"type": "red", "amount": 600}, {"type": "black", "amount": 600}], 422),
        ([], 422),
        ("red", 422),
        ([{"type": "red", "amount": 1, "odds": 99}], 422),
    ],
)
def test_bad_roulette_bets_move_nothing(app, client, player, bets, status):
    before = money_snapshot(app, player.id)
    assert_error(spin(client, player, bets), status)
    assert money_snapshot(app, player.id) == before


def test_total_bet_above_balance_is_refused(app, client, make_player):
    player = make_player(balance=10)
    before = money_snapshot(app, player.id)
    assert_error(spin(client, player, [{"type": "red", "amount": 6}, {"type": "black", "amount": 6}]), 409, "insufficient_funds")
    assert money_snapshot(app, player.id) == before


def test_both_roulette_answers_are_exactly_their_documented_schema(app, client, player, pocket):
    from imperioApp.api.games import RouletteResultSchema

    pocket(17)
    answers = [
        client.post(
            "/roulette/spin",
            json={"bets": [{"type": "red", "amount": 2}, {"type": "straight", "numbers": [17], "amount": 1}]},
            headers=player.headers,
        ),
        client.post("/roulette/action", json={"bet": [{"amt": 1, "numbers": "17", "type": "straight"}]}, headers=player.headers),
    ]
    for response in answers:
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == set(RouletteResultSchema().fields)
        assert_documented(RouletteResultSchema(), body)
        assert all(set(bet) == {"type", "numbers", "amount", "odds", "payout"} for bet in body["bets"])
        assert set(body["fairness"]) == {"server_seed_hash", "client_seed", "nonce"}
    assert_ledger_holds(app)


def _dozen_bets(count, legacy=False):
    if legacy:
        return [{"amt": 1, "numbers": ",".join(map(str, range(1, 13))), "odds": 2, "type": "dozen"}] * count
    return [{"type": "dozen", "index": 1, "amount": 1}] * count


@pytest.mark.parametrize(("path", "field", "legacy"), [("/roulette/spin", "bets", False), ("/roulette/action", "bet", True)])
def test_a_spin_takes_exactly_roulette_max_bets_on_both_endpoints(app, client, make_player, path, field, legacy):
    """The documented maxItems is the limit: that many bets settle, one more is too_many_bets and moves nothing."""
    limit = app.config["ROULETTE_MAX_BETS"]
    spec = client.get("/openapi.json").get_json()
    schema_name = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/")[-1]
    assert spec["components"]["schemas"][schema_name]["properties"][field]["maxItems"] == limit
    player = make_player(balance=limit * 2)
    refused = client.post(path, json={field: _dozen_bets(limit + 1, legacy)}, headers=player.headers)
    before = money_snapshot(app, player.id)
    assert_error(refused, 422, "too_many_bets")
    assert money_snapshot(app, player.id) == before
    response = client.post(path, json={field: _dozen_bets(limit, legacy)}, headers=player.headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["total_bet"] == limit
    assert_ledger_holds(app)


def test_the_old_clients_zero_entries_do_not_count_towards_the_limit(app, client, make_player):
    limit = app.config["ROULETTE_MAX_BETS"]
    player = make_player(balance=limit)
    removed = [{"amt": 0, "numbers": "5", "odds": 35, "type": "straight"}] * 10
    response = client.post("/roulette/action", json={"bet": removed + _dozen_bets(limit, legacy=True)}, headers=player.headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["total_bet"] == limit
    assert_ledger_holds(app)
