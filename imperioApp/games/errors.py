"""Exceptions raised by the game engines, and the one stake check they share.

Every class carries a stable machine-readable ``code`` (overridable per raise) and a
human-readable ``message``, so the service layer can map them to
``{"error": {"code", "message"}}`` without parsing text. They subclass ValueError
because each one means "this input is not acceptable".
"""

from .numbers import is_integer


class GameError(ValueError):
    """Base of every expected, user-facing failure of a game engine."""

    code = "game_error"

    def __init__(self, message, *, code=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class InvalidBet(GameError):
    """A stake or bet shape that the game does not accept."""

    code = "invalid_bet"


class IllegalAction(GameError):
    """An action that the rules forbid in the game's current state."""

    code = "illegal_action"


class InvalidSeed(GameError):
    """A server seed, client seed or nonce that is not well formed."""

    code = "invalid_seed"


class UnknownGame(GameError):
    """A game name that is not in the registry."""

    code = "unknown_game"


class RandomSourceFailed(Exception):
    """The OS random source could not give the bytes of a new seed: nothing may be drawn from it.

    Not a GameError: the player's input is not at fault, and the answer is "unavailable".
    """

    code = "rng_unavailable"


def validate_stake(value: object, field: str = "bet") -> int:
    """Return value if it is a positive int coin amount, else raise InvalidBet."""
    # bool is an int subclass: True would otherwise be a 1-coin bet.
    if not is_integer(value):
        raise InvalidBet(f"{field} must be a whole number of coins", code="invalid_amount")
    if value <= 0:
        raise InvalidBet(f"{field} must be positive", code="invalid_amount")
    return value
