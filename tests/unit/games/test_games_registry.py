"""The registry and the common verify() entry used by POST /fairness/verify."""

import pytest

from imperioApp import games
from imperioApp.games import blackjack, roulette, slots
from imperioApp.games.errors import (
    GameError,
    IllegalAction,
    InvalidBet,
    InvalidSeed,
    UnknownGame,
)
from imperioApp.games.fairness import FairRNG, hash_server_seed

SERVER_SEED = "61a8cad2a0ba37e1f68c3400dc45cf5e2f33fc022fdc04ddf106d3cda4daaaaa"
CLIENT_SEED = "player-chosen-seed"


def test_registry_names_the_three_games():
    assert games.GAMES == {"slots": slots, "blackjack": blackjack, "roulette": roulette}
    assert games.get_game("roulette") is roulette


@pytest.mark.parametrize("name", ["poker", "", None, "Slots"])
def test_unknown_games_are_rejected(name):
    with pytest.raises(UnknownGame):
        games.get_game(name)


def test_errors_carry_codes_and_are_value_errors():
    error = IllegalAction("nope", code="game_over")
    assert (error.code, error.message, str(error)) == ("game_over", "nope", "nope")
    assert InvalidBet("x").code == "invalid_bet"
    assert isinstance(error, GameError) and isinstance(error, ValueError)


def test_verify_slots_known_answer():
    result = games.verify("slots", SERVER_SEED, CLIENT_SEED, 1, {"bet": 10})
    assert result == {
        "game": "slots",
        "server_seed_hash": hash_server_seed(SERVER_SEED),
        "client_seed": CLIENT_SEED,
        "nonce": 1,
        "outcome": {
            "bet": 10,
            "segments": [24, 27, 18],
            "positions": [12, 14, 9],
            "fruits": ["banana", "lemon", "lemon"],
            "combination": None,
            "multiplier": 0,
            "payout": 0,
        },
    }


def test_verify_roulette_known_answer():
    bets = [{"type": "red", "amount": 5}, {"type": "straight", "numbers": [33], "amount": 1}]
    outcome = games.verify("roulette", SERVER_SEED, CLIENT_SEED, 1, {"bets": bets})["outcome"]
    assert (outcome["pocket"], outcome["color"]) == (33, "black")
    assert [b["payout"] for b in outcome["bets"]] == [0, 36]
    assert (outcome["total_bet"], outcome["total_payout"]) == (6, 36)


def test_verify_blackjack_known_answer():
    inputs = {"wager": 10, "actions": ["hit", "stand"]}
    outcome = games.verify("blackjack", SERVER_SEED, CLIENT_SEED, 1, inputs)["outcome"]
    assert [c["name"] for c in outcome["player_hand"]] == ["3", "6", "Ace"]
    assert [c["name"] for c in outcome["dealer_hand"]] == ["8", "6", "9"]
    assert outcome["message"] == "Dealer busts. You win!" and outcome["total_payout"] == 20
    split = games.verify("blackjack", SERVER_SEED, CLIENT_SEED, 16, {"wager": 10, "actions": ["split"]})
    assert [c["name"] for c in split["outcome"]["player_hand"]] == ["4", "7"]
    assert [c["name"] for c in split["outcome"]["player_second_hand"]] == ["4", "Ace"]


def test_verify_matches_the_engines_directly():
    for nonce in range(10):
        direct = slots.spin(FairRNG(SERVER_SEED, CLIENT_SEED, nonce), 3).to_dict()
        assert games.verify("slots", SERVER_SEED, CLIENT_SEED, nonce, {"bet": 3})["outcome"] == direct


def test_verify_rejects_bad_input():
    with pytest.raises(InvalidSeed):
        games.verify("slots", "not-a-seed", CLIENT_SEED, 1, {})
    with pytest.raises(InvalidSeed):
        games.verify("slots", SERVER_SEED, CLIENT_SEED, -1, {})
    with pytest.raises(GameError):
        games.verify("slots", SERVER_SEED, CLIENT_SEED, 1, ["bet"])
    with pytest.raises(InvalidBet):
        games.verify("blackjack", SERVER_SEED, CLIENT_SEED, 1, {"actions": []})
    with pytest.raises(IllegalAction):
        games.verify("blackjack", SERVER_SEED, CLIENT_SEED, 1, {"wager": 10, "actions": "hit"})
