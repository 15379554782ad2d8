"""The game registry: what each engine declares for the rest of the app, and who reads it from there."""

import inspect

import pytest

from config import Config
from imperioApp.games import GAMES
from imperioApp.models import GAME_TYPES
from imperioApp.services.engagement import statistics


def test_the_game_types_are_the_registry_in_its_stored_order():
    # A game's position is its bit in user_stats.games_mask: existing games never move.
    assert GAME_TYPES == tuple(GAMES) == ("slots", "blackjack", "roulette")


@pytest.mark.parametrize("engine", GAMES.values(), ids=list(GAMES))
def test_every_engine_declares_what_the_app_asks_of_it(engine):
    assert GAMES[engine.NAME] is engine
    assert isinstance(getattr(Config, engine.STAKE_LIMIT_SETTING), int)
    assert list(inspect.signature(engine.signature_hit).parameters) == ["outcome"]
    assert list(inspect.signature(engine.replay).parameters) == ["rng", "inputs"]


@pytest.mark.parametrize(
    ("game", "outcome", "hit"),
    [
        ("slots", {"combination": "three_cherries"}, True),
        ("slots", {"combination": "three_lemons"}, False),
        ("blackjack", {"results": [{"result": "lose"}, {"result": "blackjack"}]}, True),
        ("blackjack", {"results": [{"result": "win"}]}, False),
        ("roulette", {"bets": [{"type": "straight", "payout": 36}]}, True),
        ("roulette", {"bets": [{"type": "straight", "payout": 0}, {"type": "red", "payout": 2}]}, False),
        ("poker", {"combination": "three_cherries"}, False),
    ],
)
def test_statistics_ask_the_engine_for_its_signature_hit(game, outcome, hit):
    assert statistics.signature_hit(game, outcome) is hit
