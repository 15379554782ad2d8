"""The integer check shared by the engines and the services: a boolean is never a number here."""

from typing import TypeGuard


# TypeGuard, not TypeIs: False also means an int out of bounds, so False must not narrow.
def is_integer(value: object, low: int | None = None, high: int | None = None) -> TypeGuard[int]:
    """True for an int within [low, high] (either bound optional); False for bools, an int subclass."""
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return (low is None or value >= low) and (high is None or value <= high)
