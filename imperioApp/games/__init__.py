"""Pure game engines: no Flask, no database, no I/O; standard library only.

``GAMES`` is the registry of engines, in the order of ``models.GAME_TYPES`` (which it
makes: a game's position there is its bit in the statistics' ``games_mask``, so a new game
goes last). Each engine module declares what the rest of the app asks of it:

- ``NAME``: its ``game_type`` in rounds, statistics, the ledger and the API.
- ``STAKE_LIMIT_SETTING``: the config setting capping a round's stake, read by the
  service that plays it and stated as the maximum in /openapi.json.
- ``signature_hit(outcome) -> bool``: the round was the game's best (statistics).
- ``replay(rng, inputs) -> dict``: recompute a round from the fairness RNG and the
  player's inputs; :func:`verify` wires that to the provably fair stream.
"""

from . import blackjack, roulette, slots
from .errors import GameError, IllegalAction, InvalidBet, InvalidSeed, UnknownGame
from .fairness import FairRNG, hash_server_seed

GAMES = {module.NAME: module for module in (slots, blackjack, roulette)}

__all__ = [
    "GAMES",
    "GameError",
    "IllegalAction",
    "InvalidBet",
    "InvalidSeed",
    "UnknownGame",
    "get_game",
    "verify",
]


def get_game(name: str):
    """Return the engine module registered under `name`, or raise UnknownGame."""
    try:
        return GAMES[name]
    except (KeyError, TypeError):
        raise UnknownGame(f"unknown game {name!r}; expected one of {', '.join(GAMES)}") from None


def verify(game_name: str, server_seed: str, client_seed: str, nonce: int, inputs: dict) -> dict:
    """Recompute a round from its revealed seed, client seed, nonce and inputs."""
    game = get_game(game_name)
    if not isinstance(inputs, dict):
        raise GameError("inputs must be an object", code="invalid_inputs")
    rng = FairRNG(server_seed, client_seed, nonce)
    return {
        "game": game.NAME,
        "server_seed_hash": hash_server_seed(server_seed),
        "client_seed": client_seed,
        "nonce": nonce,
        "outcome": game.replay(rng, inputs),
    }
