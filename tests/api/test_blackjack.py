"""Blackjack over HTTP: the old client's contract, hidden cards, rules, ledger and bad input."""

import json

import pytest

from .helpers import assert_documented, assert_error, assert_ledger_holds, money_snapshot


def start(client, player, wager=10):
    response = client.post("/blackjack/start", json={"wager": wager}, headers=player.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def act(client, player, game_id, action):
    return client.post("/blackjack/action", json={"action": action, "game_id": game_id}, headers=player.headers)


def test_the_old_client_sees_its_fields_and_only_the_up_card(client, player, deal):
    # player 10, dealer 9, player 7, dealer hole King; then 3 for the player, dealer stands on 19
    deal("10", "9", "7", "King", "3")
    state = start(client, player)
    for field in (
        "id",
        "player_hand",
        "dealer_hand",
        "player_second_hand",
        "split",
        "current_hand",
        "player_coins",
        "current_wager",
        "game_over",
        "message",
        "can_double_down",
        "can_split",
        "dealer_value",
    ):
        assert field in state
    assert [c["name"] for c in state["dealer_hand"]] == ["9"]
    assert state["dealer_value"] == 9
    assert {"suit", "name", "value"} == set(state["player_hand"][0])
    assert state["player_coins"] == 990 and state["current_wager"] == 10 and not state["game_over"]
    assert "King" not in json.dumps(state) and "shoe" not in json.dumps(state)

    final = act(client, player, state["id"], "hit").get_json()
    assert [c["name"] for c in final["player_hand"]] == ["10", "7", "3"]
    final = act(client, player, state["id"], "stand").get_json()
    assert final["game_over"] and final["dealer_value"] == 19
    assert final["results"][0]["result"] == "win"
    assert final["player_coins"] == 1010


def test_natural_blackjack_pays_three_to_two_at_the_deal(client, player, deal):
    deal("Ace", "9", "King", "7")
    state = start(client, player, wager=10)
    assert state["game_over"] and state["results"][0]["result"] == "blackjack"
    assert state["player_coins"] == 1000 - 10 + 25
    # The old client treats a message from /blackjack/start as an error; the text moves aside.
    assert state["message"] == "" and "Blackjack" in state["result_message"]


def test_dealer_natural_takes_the_wager_at_the_deal(client, player, deal):
    deal("10", "Ace", "9", "King")
    state = start(client, player, wager=10)
    assert state["game_over"] and state["player_coins"] == 990
    assert [c["name"] for c in state["dealer_hand"]] == ["Ace", "King"]


def test_double_down_stakes_again_and_draws_one_card(client, player, deal):
    deal("6", "9", "5", "8", "10")
    state = start(client, player)
    assert state["can_double_down"]
    final = act(client, player, state["id"], "double").get_json()  # the old client's word
    assert len(final["player_hand"]) == 3 and final["game_over"]
    assert final["current_wager"] == 20
    assert final["player_coins"] == 1000 - 20 + 40  # 21 against 17


def test_split_then_a_second_split_is_refused(client, player, deal):
    deal("8", "10", "8", "7", "8", "3")  # split 8s: hand 1 gets 8 (pair again), hand 2 gets 3
    state = start(client, player)
    assert state["can_split"]
    split = act(client, player, state["id"], "split").get_json()
    assert split["split"] and len(split["player_second_hand"]) == 2
    assert split["player_coins"] == 980 and split["current_wager"] == 20
    assert_error(act(client, player, state["id"], "split"), 409, "already_split")


@pytest.mark.parametrize(
    ("cards", "first", "second", "code"),
    [
        (("6", "9", "5", "8", "2"), "hit", "double_down", "cannot_double"),
        (("6", "9", "5", "8"), None, "split", "cannot_split"),
        (("6", "9", "5", "8"), None, "surrender", "unknown_action"),
    ],
)
def test_illegal_actions_are_refused_and_move_nothing(app, client, player, deal, cards, first, second, code):
    deal(*cards)
    state = start(client, player)
    if first:
        assert act(client, player, state["id"], first).status_code == 200
    before = money_snapshot(app, player.id)
    response = act(client, player, state["id"], second)
    assert_error(response, 400 if code == "unknown_action" else 409, code)
    assert money_snapshot(app, player.id) == before


def test_finished_games_refuse_actions(client, player, deal):
    deal("10", "9", "7", "King")
    state = start(client, player)
    act(client, player, state["id"], "stand")
    assert_error(act(client, player, state["id"], "hit"), 409, "game_over")


def test_another_players_game_is_not_found(client, player, make_player, deal):
    deal("10", "9", "7", "King")
    state = start(client, player)
    intruder = make_player()
    response = client.post("/blackjack/action", json={"action": "stand", "game_id": state["id"]}, headers=intruder.headers)
    assert_error(response, 404, "game_not_found")
    assert_error(client.post("/blackjack/action", json={"action": "stand", "game_id": 999999}, headers=player.headers), 404)


def test_several_games_at_once(client, player, deal):
    deal("10", "9", "7", "King", "10", "9", "7", "King")
    first, second = start(client, player), start(client, player)
    assert first["id"] != second["id"]
    assert act(client, player, second["id"], "stand").get_json()["game_over"]
    assert act(client, player, first["id"], "stand").get_json()["game_over"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"wager": 0},
        {"wager": -10},
        {"wager": 10.5},
        {"wager": "10"},
        {"wager": False},
        {"wager": 2**64},
        {"wager": 1001},
        {"wager": 10, "extra": 1},
    ],
)
def test_bad_wagers_are_refused(app, client, player, body):
    before = money_snapshot(app, player.id)
    assert_error(client.post("/blackjack/start", json=body, headers=player.headers), 422)
    assert money_snapshot(app, player.id) == before


@pytest.mark.parametrize(
    "body",
    [
        {"game_id": 1},
        {"action": 5, "game_id": 1},
        {"action": "hit", "game_id": "1"},
        {"action": "hit", "game_id": 1.0},
        {"action": "hit", "game_id": -1},
        {"action": "hit", "game_id": 2**70},
    ],
)
def test_bad_action_requests_are_422(client, player, body):
    assert_error(client.post("/blackjack/action", json=body, headers=player.headers), 422)


def test_wager_above_balance(app, client, make_player):
    player = make_player(balance=5)
    before = money_snapshot(app, player.id)
    assert_error(client.post("/blackjack/start", json={"wager": 10}, headers=player.headers), 409, "insufficient_funds")
    assert money_snapshot(app, player.id) == before


def test_double_without_the_coins_is_refused(app, client, make_player, deal):
    deal("6", "9", "5", "8", "10")
    player = make_player(balance=10)
    state = start(client, player, wager=10)
    assert_error(act(client, player, state["id"], "double_down"), 409, "insufficient_funds")
    assert act(client, player, state["id"], "stand").status_code == 200


def test_an_open_game_survives_a_restart(app, make_app, client, player, deal):
    deal("10", "9", "7", "King")
    state = start(client, player)
    restarted = make_app(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=app.config["REDIS_URL"])
    listing = restarted.test_client().get("/games/history?status=open", headers=player.headers).get_json()
    assert [item["id"] for item in listing["items"]] == [state["id"]]
    final = restarted.test_client().post(
        "/blackjack/action", json={"action": "stand", "game_id": state["id"]}, headers=player.headers
    )
    assert final.get_json()["game_over"]


def test_retried_action_is_applied_once(app, client, player, deal):
    deal("6", "9", "5", "8", "10")
    state = start(client, player)
    headers = {**player.headers, "Idempotency-Key": "double-1"}
    body = {"action": "double_down", "game_id": state["id"]}
    first = client.post("/blackjack/action", json=body, headers=headers)
    again = client.post("/blackjack/action", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.get_data() == again.get_data()


def assert_exactly_documented(state):
    """The answer is exactly BlackjackStateSchema's fields, nested ones included."""
    from imperioApp.api.games import BlackjackStateSchema

    assert set(state) == set(BlackjackStateSchema().fields)
    assert_documented(BlackjackStateSchema(), state)  # the cards too
    assert all(set(hand) == {"hand", "result", "wager", "payout", "value"} for hand in state["results"])
    assert set(state["fairness"]) == {"server_seed_hash", "client_seed", "nonce"}


def test_every_blackjack_answer_is_exactly_its_documented_schema(app, client, player, deal):
    deal("10", "9", "7", "King", "3")
    dealt = start(client, player)
    assert_exactly_documented(dealt)
    assert dealt["message"] == "" and len(dealt["dealer_hand"]) == 1
    hit = act(client, player, dealt["id"], "hit")
    assert hit.status_code == 200 and not hit.get_json()["game_over"]
    assert_exactly_documented(hit.get_json())
    over = act(client, player, dealt["id"], "stand")
    assert over.status_code == 200 and over.get_json()["game_over"]
    assert_exactly_documented(over.get_json())
    assert len(over.get_json()["dealer_hand"]) == 2 and over.get_json()["results"]
    assert_ledger_holds(app)
