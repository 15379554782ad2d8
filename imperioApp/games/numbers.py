"""The integer check shared by the engines and the services: a boolean is never a number here."""


def is_integer(value, low=None, high=None):
    """True for an int within [low, high] (either bound optional); False for bools, an int subclass."""
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return (low is None or value >= low) and (high is None or value <= high)
