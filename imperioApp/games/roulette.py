"""European single-zero roulette: 37 pockets, server-side paytable.

Layout and bets
---------------
Numbers 1..36 sit in 12 rows of 3 (row r holds 3r+1, 3r+2, 3r+3; column c holds the
numbers congruent to c mod 3, column 3 being the multiples of 3), with 0 above the first
row. A bet covers a set of numbers; it wins when the pocket is in that set and then
returns ``amount * (odds + 1)`` (stake included); otherwise it returns 0.

=========  ====  ==========================================================  ==========
type       odds  legal placements                                            count
=========  ====  ==========================================================  ==========
straight   35    any single number 0..36                                     37
split      17    two numbers side by side in a row or one above the other;  60
                 0 with 1, 2 or 3
street     11    one row                                                     12
trio       11    0-1-2 or 0-2-3                                              2
corner     8     a 2x2 block of two adjacent rows and columns                22
basket     8     0-1-2-3 (the "first four")                                  1
six_line   5     two adjacent rows                                           11
dozen      2     1-12, 13-24, 25-36 (``index`` 1..3)                         3
column     2     column 1, 2 or 3 (``index`` 1..3)                           3
red/black  1     the 18 red / 18 black numbers                               1 each
odd/even   1     odd / even numbers of 1..36                                 1 each
low/high   1     1-18 / 19-36                                                1 each
=========  ====  ==========================================================  ==========

Zero loses every dozen, column and even-money bet (no la partage / en prison). Every
legal bet returns exactly 36/37 of its stake on average (house edge 1/37 = 2.70%).

Input form (``parse_bet``): ``{"type", "amount", "numbers"?, "index"?}``. ``numbers``
lists the covered numbers in any order and must form a legal placement of that type;
it may be omitted for types with a single placement (basket and the even-money bets),
and for dozen/column ``index`` may replace it. The legacy client sends only the covered
numbers (``"1, 2, 3"``); :func:`classify_numbers` infers the bet type from them.

Random draw: ``pocket = randbelow(37)`` (word 0 of the round's stream unless rejected).
The pocket is the number itself; WHEEL_ORDER is only for drawing the wheel.
"""

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from fractions import Fraction

from .errors import InvalidBet, validate_stake
from .numbers import is_integer

NAME = "roulette"
# The setting capping all of one player's bets on a spin together (config.py).
STAKE_LIMIT_SETTING = "ROULETTE_MAX_TOTAL_BET"
POCKETS = 37
# Every legal bet returns 36 of 37 stakes on average (see the table above).
PUBLISHED_RTP = Fraction(36, 37)
RED = frozenset({1, 3, 5, 7, 9, 12, 14, 16, 18, 19, 21, 23, 25, 27, 30, 32, 34, 36})
BLACK = frozenset(range(1, 37)) - RED
WHEEL_ORDER = (0, 32, 15, 19, 4, 21, 2, 25, 17, 34, 6, 27, 13, 36, 11, 30, 8, 23, 10,
               5, 24, 16, 33, 1, 20, 14, 31, 9, 22, 18, 29, 7, 28, 12, 35, 3, 26)  # fmt: skip

ODDS = {
    "straight": 35,
    "split": 17,
    "street": 11,
    "trio": 11,
    "corner": 8,
    "basket": 8,
    "six_line": 5,
    "dozen": 2,
    "column": 2,
    "red": 1,
    "black": 1,
    "odd": 1,
    "even": 1,
    "low": 1,
    "high": 1,
}


def _row(r: int) -> set[int]:
    return {3 * r + 1, 3 * r + 2, 3 * r + 3}


def _build_placements() -> dict[str, tuple[frozenset[int], ...]]:
    """Return every legal cover per bet type, derived from the 3x12 layout."""
    edge = [n for n in range(1, 37) if n % 3 != 0]  # numbers with a right-hand neighbour
    covers: dict[str, Sequence[AbstractSet[int]]] = {
        "straight": [{n} for n in range(POCKETS)],
        "split": [{n, n + 1} for n in edge] + [{n, n + 3} for n in range(1, 34)] + [{0, n} for n in (1, 2, 3)],
        "street": [_row(r) for r in range(12)],
        "trio": [{0, 1, 2}, {0, 2, 3}],
        "corner": [{n, n + 1, n + 3, n + 4} for n in edge if n <= 32],
        "basket": [{0, 1, 2, 3}],
        "six_line": [_row(r) | _row(r + 1) for r in range(11)],
        "dozen": [set(range(12 * d + 1, 12 * d + 13)) for d in range(3)],
        "column": [{n for n in range(1, 37) if n % 3 == (c + 1) % 3} for c in range(3)],
        "red": [RED],
        "black": [BLACK],
        "odd": [{n for n in range(1, 37) if n % 2}],
        "even": [{n for n in range(1, 37) if not n % 2}],
        "low": [set(range(1, 19))],
        "high": [set(range(19, 37))],
    }
    return {kind: tuple(frozenset(c) for c in cs) for kind, cs in covers.items()}


PLACEMENTS = _build_placements()
# Covers of different types never coincide (tested), so the covered numbers alone name the type.
_TYPE_BY_COVER = {cover: kind for kind, covers in PLACEMENTS.items() for cover in covers}


def pocket_color(pocket: int) -> str:
    """Return "green", "red" or "black" for a pocket."""
    if pocket == 0:
        return "green"
    return "red" if pocket in RED else "black"


@dataclass(frozen=True)
class Bet:
    """A validated bet: its type, the numbers it covers (sorted) and its stake."""

    type: str
    numbers: tuple[int, ...]
    amount: int

    @property
    def odds(self) -> int:
        """Return the net odds paid on a win (35 for straight, 1 for red, ...)."""
        return ODDS[self.type]

    def payout(self, pocket: int) -> int:
        """Return the gross amount returned for this pocket: amount*(odds+1) or 0."""
        return self.amount * (self.odds + 1) if pocket in self.numbers else 0

    def to_dict(self) -> dict:
        """Return a JSON-ready dict that parse_bet accepts back."""
        return {"type": self.type, "numbers": list(self.numbers), "amount": self.amount, "odds": self.odds}


def _cover_of(numbers) -> frozenset[int]:
    if isinstance(numbers, (str, bytes)) or not hasattr(numbers, "__iter__"):
        raise InvalidBet("numbers must be a list of integers", code="invalid_numbers")
    numbers = list(numbers)
    if not all(is_integer(n, 0, POCKETS - 1) for n in numbers):
        raise InvalidBet("numbers must be integers from 0 to 36", code="invalid_numbers")
    cover = frozenset(numbers)
    if len(cover) != len(numbers):
        raise InvalidBet("numbers must not repeat", code="invalid_numbers")
    return cover


def make_bet(bet_type: object, amount: object, numbers=None, index=None) -> Bet:
    """Return a validated Bet; raise InvalidBet for unknown types or illegal shapes."""
    if not isinstance(bet_type, str) or bet_type not in ODDS:
        raise InvalidBet(f"unknown bet type {bet_type!r}", code="unknown_bet_type")
    stake = validate_stake(amount, "amount")
    placements = PLACEMENTS[bet_type]
    if index is not None:
        if bet_type not in ("dozen", "column") or numbers is not None:
            raise InvalidBet("index is only for dozen or column bets, instead of numbers", code="invalid_index")
        if not is_integer(index, 1, 3):
            raise InvalidBet("index must be 1, 2 or 3", code="invalid_index")
        cover = placements[index - 1]
    elif numbers is None:
        if len(placements) != 1:
            raise InvalidBet(f"a {bet_type} bet needs the numbers it covers", code="numbers_required")
        cover = placements[0]
    else:
        cover = _cover_of(numbers)
        if _TYPE_BY_COVER.get(cover) != bet_type:
            raise InvalidBet(f"{sorted(cover)} is not a legal {bet_type} bet", code="illegal_bet_shape")
    return Bet(type=bet_type, numbers=tuple(sorted(cover)), amount=stake)


def parse_bet(data) -> Bet:
    """Return the Bet described by {"type", "amount", "numbers"?, "index"?}; odds are ignored."""
    if not isinstance(data, dict):
        raise InvalidBet("each bet must be an object", code="invalid_bet")
    return make_bet(data.get("type"), data.get("amount"), data.get("numbers"), data.get("index"))


def classify_numbers(numbers) -> str:
    """Return the only bet type whose legal placement covers exactly these numbers."""
    bet_type = _TYPE_BY_COVER.get(_cover_of(numbers))
    if bet_type is None:
        raise InvalidBet(f"{sorted(numbers)} is not a legal bet on the layout", code="illegal_bet_shape")
    return bet_type


def parse_legacy_numbers(text) -> list[int]:
    """Return the integers of a legacy comma-separated string such as "1, 2, 3"."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidBet("numbers must be a non-empty comma-separated string", code="invalid_numbers")
    parts = [part.strip() for part in text.split(",")]
    # isdecimal() alone admits non-ASCII digits; the legacy client only sends 0-9.
    if not all(part.isascii() and part.isdecimal() for part in parts):
        raise InvalidBet(f"invalid numbers {text!r}", code="invalid_numbers")
    return [int(part) for part in parts]


def legacy_bet(data) -> Bet:
    """Return the Bet for a legacy {"amt", "numbers": "1,2"} entry; type and odds are ignored."""
    if not isinstance(data, dict):
        raise InvalidBet("each bet must be an object", code="invalid_bet")
    numbers = parse_legacy_numbers(data.get("numbers"))
    return make_bet(classify_numbers(numbers), data.get("amt"), numbers)


def max_payout(bets) -> int:
    """Return a bound on what `bets` can return on one spin: every bet paid as if it won."""
    return sum(bet.amount * (bet.odds + 1) for bet in bets)


def spin(rng) -> int:
    """Return the winning pocket, randbelow(37)."""
    return rng.randbelow(POCKETS)


def settle(bets, pocket: int) -> list[int]:
    """Return the gross payout of each bet for the pocket, in order."""
    return [bet.payout(pocket) for bet in bets]


@dataclass(frozen=True)
class RouletteOutcome:
    """One spin with its bets settled."""

    pocket: int
    bets: tuple[Bet, ...]
    payouts: tuple[int, ...]

    @property
    def total_bet(self) -> int:
        """Return the sum of the stakes."""
        return sum(bet.amount for bet in self.bets)

    @property
    def total_payout(self) -> int:
        """Return the gross amount returned across all bets."""
        return sum(self.payouts)

    def to_dict(self) -> dict:
        """Return a JSON-ready dict of the spin, its bets and payouts."""
        return {
            "pocket": self.pocket,
            "color": pocket_color(self.pocket),
            "bets": [dict(bet.to_dict(), payout=paid) for bet, paid in zip(self.bets, self.payouts, strict=True)],
            "total_bet": self.total_bet,
            "total_payout": self.total_payout,
        }


def play(rng, bets) -> RouletteOutcome:
    """Spin once with rng and settle the validated bets."""
    bets = tuple(bets)
    if not bets:
        raise InvalidBet("at least one bet is required", code="no_bets")
    pocket = spin(rng)
    return RouletteOutcome(pocket=pocket, bets=bets, payouts=tuple(settle(bets, pocket)))


def signature_hit(outcome: dict) -> bool:
    """True if the round's public outcome is this game's best (statistics count it): a straight-up hit."""
    return any(bet.get("type") == "straight" and bet.get("payout", 0) > 0 for bet in outcome.get("bets", ()))


def replay(rng, inputs: dict) -> dict:
    """Recompute a spin from its inputs {"bets": [parse_bet form, ...]}; return its dict."""
    bets = inputs.get("bets")
    if not isinstance(bets, list):
        raise InvalidBet("bets must be a list", code="invalid_bet")
    return play(rng, [parse_bet(bet) for bet in bets]).to_dict()
