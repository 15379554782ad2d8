"""Statistics: kept incrementally by settlement, equal to a recomputation from the ledger and rounds."""

import random
import time
from collections import defaultdict

import pytest
from sqlalchemy import select

from imperioApp.extensions import db
from imperioApp.models import GAME_TYPES, GameRound, LedgerEntry
from imperioApp.services.engagement import statistics

from .helpers import assert_error, assert_ledger_holds


def stats(client, player):
    response = client.get("/statistics", headers=player.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_new_player_has_zeroes_everywhere(client, player):
    body = stats(client, player)
    assert set(body["games"]) == set(GAME_TYPES)
    for block in (body["overall"], *body["games"].values()):
        assert block["games_played"] == 0 and block["win_rate"] == 0.0 and block["net"] == 0


def test_forced_rounds_add_up(client, player, reels, pocket, deal):
    plays = [
        ("three_apples", 10),
        ("three_lemons", 10),
        (None, 10),
        ("three_bananas", 5),
        ("two_apples", 5),
        ("three_lemons", 5),
        (None, 5),
    ]
    for combination, bet in plays:
        reels(combination)
        assert client.post("/spin", json={"bet": bet}, headers=player.headers).status_code == 200
    pocket(7)
    client.post("/roulette/spin", json={"bets": [{"type": "straight", "numbers": [7], "amount": 2}]}, headers=player.headers)
    deal("Ace", "9", "King", "7")  # a natural: 3:2
    client.post("/blackjack/start", json={"wager": 10}, headers=player.headers)
    body = stats(client, player)
    slots = body["games"]["slots"]
    # payouts 250, 20, 0, 75, 30, 10, 0 on stakes 10, 10, 10, 5, 5, 5, 5: won, won, lost, won x3, lost
    assert slots == {
        "games_played": 7,
        "games_won": 5,
        "win_rate": round(5 / 7, 4),
        "total_wagered": 50,
        "total_won": 385,
        "net": 335,
        "biggest_win": 240,
        "current_streak": 0,
        "best_streak": 3,
        "big_wins": 0,
        "signature_hits": 0,
    }
    roulette = body["games"]["roulette"]
    assert roulette["total_won"] == 72 and roulette["signature_hits"] == 1 and roulette["biggest_win"] == 70
    blackjack = body["games"]["blackjack"]
    assert blackjack["total_won"] == 25 and blackjack["signature_hits"] == 1
    overall = body["overall"]
    assert overall["games_played"] == 9 and overall["games_won"] == 7
    assert overall["total_wagered"] == 62 and overall["total_won"] == 482 and overall["net"] == 420
    assert overall["current_streak"] == 2 and overall["best_streak"] == 3 and overall["biggest_win"] == 240
    assert overall["signature_hits"] == 2


def test_a_push_ends_a_streak(client, player, reels, deal):
    reels("three_apples")
    client.post("/spin", json={"bet": 1}, headers=player.headers)
    deal("Ace", "Ace", "King", "King")  # both naturals: a push
    client.post("/blackjack/start", json={"wager": 10}, headers=player.headers)
    overall = stats(client, player)["overall"]
    assert overall["games_played"] == 2 and overall["games_won"] == 1 and overall["current_streak"] == 0


def test_an_open_blackjack_round_counts_only_once_settled(client, player, deal):
    deal("10", "9", "7", "King", "3")
    state = client.post("/blackjack/start", json={"wager": 10}, headers=player.headers).get_json()
    client.post("/blackjack/action", json={"action": "hit", "game_id": state["id"]}, headers=player.headers)
    assert stats(client, player)["games"]["blackjack"]["games_played"] == 0
    time.sleep(1.05)  # past the statistics cache
    client.post("/blackjack/action", json={"action": "stand", "game_id": state["id"]}, headers=player.headers)
    blackjack = stats(client, player)["games"]["blackjack"]
    assert blackjack["games_played"] == 1 and blackjack["total_wagered"] == 10 and blackjack["total_won"] == 20


def recompute(app, user_id, big_win_threshold):
    """Statistics from first principles: settled rounds in settlement order, checked against the ledger."""
    with app.app_context():
        rounds = (
            db.session.execute(
                select(GameRound)
                .where(GameRound.user_id == user_id, GameRound.status == "settled")
                .order_by(GameRound.settled_at, GameRound.id)
            )
            .scalars()
            .all()
        )
        ledger = db.session.execute(
            select(LedgerEntry.round_id, LedgerEntry.type, LedgerEntry.amount).where(LedgerEntry.user_id == user_id)
        ).all()
        db.session.remove()
    staked, paid = defaultdict(int), defaultdict(int)
    for round_id, type_, amount in ledger:
        if type_ == "bet":
            staked[round_id] -= amount
        elif type_ == "win":
            paid[round_id] += amount

    def blank():
        return dict.fromkeys(
            (
                "games_played",
                "games_won",
                "total_wagered",
                "total_won",
                "biggest_win",
                "current_streak",
                "best_streak",
                "big_wins",
                "signature_hits",
            ),
            0,
        )

    totals = {"overall": blank(), **{game: blank() for game in GAME_TYPES}}
    for round_ in rounds:
        # The ledger and the round agree on what moved.
        assert (staked[round_.id], paid[round_.id]) == (round_.bet, round_.payout)
        net = round_.payout - round_.bet
        for block in (totals["overall"], totals[round_.game_type]):
            block["games_played"] += 1
            block["games_won"] += net > 0
            block["total_wagered"] += round_.bet
            block["total_won"] += round_.payout
            block["biggest_win"] = max(block["biggest_win"], net)
            block["current_streak"] = block["current_streak"] + 1 if net > 0 else 0
            block["best_streak"] = max(block["best_streak"], block["current_streak"])
            block["big_wins"] += net >= big_win_threshold
            block["signature_hits"] += statistics.signature_hit(round_.game_type, round_.outcome)
    for block in totals.values():
        block["net"] = block["total_won"] - block["total_wagered"]
        block["win_rate"] = round(block["games_won"] / block["games_played"], 4) if block["games_played"] else 0.0
    return totals


def test_incremental_statistics_equal_a_recomputation_after_random_rounds(app, client, make_player):
    player = make_player(balance=100_000)
    rng = random.Random(20261127)
    for _ in range(120):
        game = rng.choice(GAME_TYPES)
        if game == "slots":
            client.post("/spin", json={"bet": rng.randint(1, 100)}, headers=player.headers)
        elif game == "roulette":
            bets = [
                {"type": "straight", "numbers": [rng.randrange(37)], "amount": rng.randint(1, 20)},
                {"type": rng.choice(["red", "black", "odd", "even"]), "amount": rng.randint(1, 50)},
            ]
            client.post("/roulette/spin", json={"bets": bets}, headers=player.headers)
        else:
            state = client.post("/blackjack/start", json={"wager": rng.randint(1, 200)}, headers=player.headers).get_json()
            while not state["game_over"]:
                action = "hit" if state["player_value"] < 15 and state["can_hit"] else "stand"
                state = client.post(
                    "/blackjack/action", json={"action": action, "game_id": state["id"]}, headers=player.headers
                ).get_json()
    expected = recompute(app, player.id, app.config["BIG_WIN_THRESHOLD"])
    assert expected["overall"]["games_played"] == 120
    body = stats(client, player)
    assert body["overall"] == expected["overall"]
    for game in GAME_TYPES:
        assert body["games"][game] == expected[game], game
        per_game = client.get(f"/statistics/game/{game}", headers=player.headers).get_json()
        assert per_game == {"game_type": game, **expected[game]}


@pytest.mark.parametrize("game", ["poker", "SLOTS", "all", "%20"])
def test_unknown_games_are_404_naming_the_real_ones(client, player, game):
    error = assert_error(client.get(f"/statistics/game/{game}", headers=player.headers), 404, "unknown_game")
    assert error["details"]["valid"] == list(GAME_TYPES)


def test_a_round_shows_in_statistics_within_a_second(app, client, player):
    assert stats(client, player)["overall"]["games_played"] == 0  # now cached
    client.post("/spin", json={"bet": 1}, headers=player.headers)
    settled = time.monotonic()
    while True:
        asked = time.monotonic() - settled  # a request started later than 1 s must see the round
        if stats(client, player)["overall"]["games_played"] == 1:
            break
        assert asked <= 1.0, f"a request made {asked:.2f}s after the round still saw the old statistics"
        time.sleep(0.05)
    assert_ledger_holds(app)
