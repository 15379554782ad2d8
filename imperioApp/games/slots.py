"""Cherry Charm: three weighted virtual reels, one left-aligned payline.

Reel strips
-----------
The Cherry Charm client receives three stop *segments* in 15..30 and shows, on reel r,
the fruit at strip position ``ceil(segment / 2)``; positions 8..15 are the visible
strip, and position p owns exactly the two segments 2p-1 and 2p.

Each position also has a stop weight (a weighted virtual reel). Each reel's weights
sum to 32:

=====  ===========  ===========  ===========
pos    reel 0       reel 1       reel 2
=====  ===========  ===========  ===========
8      cherry  1    lemon   5    lemon   5
9      lemon   5    lemon   5    lemon   5
10     lemon   5    banana  7    banana  7
11     banana  3    apple   2    lemon   5
12     banana  3    cherry  1    cherry  1
13     lemon   5    lemon   5    apple   2
14     apple   5    lemon   5    lemon   5
15     lemon   5    apple   2    apple   2
=====  ===========  ===========  ===========

Per reel, out of 32: reel 0 = cherry 1, apple 5, banana 6, lemon 20;
reels 1 and 2 = cherry 1, apple 4, banana 7, lemon 20.

Paytable
--------
Combinations are read from the left and the first matching row pays; "two" means
reels 0 and 1 show the fruit and reel 2 does not. ``payout = bet * multiplier``
(gross amount credited; the bet itself was already debited).

================  ==========  ======================  ===============
combination       multiplier  weighted stops / 32**3  RTP share
================  ==========  ======================  ===============
three_cherries    250         1                       250 / 32768
two_cherries      40          31                      1240 / 32768
three_apples      25          80                      2000 / 32768
three_bananas     15          294                     4410 / 32768
two_apples        6           560                     3360 / 32768
two_bananas       4           1050                    4200 / 32768
three_lemons      2           8000                    16000 / 32768
================  ==========  ======================  ===============

Exact RTP = 31460 / 32768 = **7865/8192 = 96.0083%** (house edge 3.9917%);
hit frequency 10016/32768 = 30.57%; multiplier variance 8.148; 3 cherries once
per 32,768 spins on average. :func:`exact_rtp` recomputes this by enumerating all
32**3 weighted stop combinations.

Random draws (in this order)
----------------------------
For reel 0, then reel 1, then reel 2:

1. ``w = randbelow(32)`` picks the position: positions 8..15 are taken in order and the
   first p whose cumulative weight exceeds w is chosen (reel 0: w = 0 -> 8,
   1..5 -> 9, 6..10 -> 10, ...).
2. ``h = randbelow(2)`` picks the segment: ``2p - 1`` if h == 0, else ``2p``.

Six draws per spin; 32 and 2 are powers of two, so no word is ever rejected and a spin
uses exactly words 0..5 of the round's stream.
"""

from dataclasses import dataclass
from fractions import Fraction
from itertools import product

from .errors import validate_stake

NAME = "slots"
# The setting capping one spin's bet (config.py).
STAKE_LIMIT_SETTING = "SLOTS_MAX_BET"
FIRST_POSITION = 8
MIN_SEGMENT = 2 * FIRST_POSITION - 1
MAX_SEGMENT = 30

# (fruit, weight) at positions 8..15, per reel.
REELS = (
    (("cherry", 1), ("lemon", 5), ("lemon", 5), ("banana", 3),
     ("banana", 3), ("lemon", 5), ("apple", 5), ("lemon", 5)),
    (("lemon", 5), ("lemon", 5), ("banana", 7), ("apple", 2),
     ("cherry", 1), ("lemon", 5), ("lemon", 5), ("apple", 2)),
    (("lemon", 5), ("lemon", 5), ("banana", 7), ("lemon", 5),
     ("cherry", 1), ("apple", 2), ("lemon", 5), ("apple", 2)),
)  # fmt: skip

# (name, fruit, reels that must show it); first match wins, so three-of-a-kind rows
# precede the two-of-a-kind row of the same fruit.
PAYTABLE = (
    ("three_cherries", "cherry", 3, 250),
    ("two_cherries", "cherry", 2, 40),
    ("three_apples", "apple", 3, 25),
    ("three_bananas", "banana", 3, 15),
    ("two_apples", "apple", 2, 6),
    ("two_bananas", "banana", 2, 4),
    ("three_lemons", "lemon", 3, 2),
)
MAX_MULTIPLIER = max(row[3] for row in PAYTABLE)
PUBLISHED_RTP = Fraction(7865, 8192)


def max_payout(bet: int) -> int:
    """Return the most one spin of `bet` can return (the top line of the paytable)."""
    return bet * MAX_MULTIPLIER


# Per reel, the position chosen by each value of the weight draw: position p repeated
# weight(p) times, positions in strip order (the cumulative-weight walk, tabulated).
_POSITION_BY_DRAW = tuple(
    tuple(position for position, (_, weight) in enumerate(reel, FIRST_POSITION) for _ in range(weight)) for reel in REELS
)
_TOTAL_WEIGHTS = tuple(len(table) for table in _POSITION_BY_DRAW)


@dataclass(frozen=True)
class SlotsOutcome:
    """One spin: what the reels show and what it pays."""

    bet: int
    segments: tuple[int, int, int]
    positions: tuple[int, int, int]
    fruits: tuple[str, str, str]
    combination: str | None
    multiplier: int
    payout: int

    def to_dict(self) -> dict:
        """Return a JSON-ready dict of the outcome."""
        # By hand: dataclasses.asdict deep-copies every field, a measurable cost per spin.
        return {
            "bet": self.bet,
            "segments": list(self.segments),
            "positions": list(self.positions),
            "fruits": list(self.fruits),
            "combination": self.combination,
            "multiplier": self.multiplier,
            "payout": self.payout,
        }


def segment_to_position(segment: int) -> int:
    """Return the strip position, ceil(segment / 2), that a stop segment shows."""
    if not MIN_SEGMENT <= segment <= MAX_SEGMENT:
        raise ValueError(f"segment must be in {MIN_SEGMENT}..{MAX_SEGMENT}, got {segment}")
    return -(-segment // 2)


def fruit_at(reel: int, position: int) -> str:
    """Return the fruit at a strip position (8..15) of a reel (0..2)."""
    return REELS[reel][position - FIRST_POSITION][0]


def evaluate(fruits) -> tuple[str | None, int]:
    """Return (combination name or None, multiplier) for the three fruits on the line."""
    fruits = tuple(fruits)
    for name, fruit, count, multiplier in PAYTABLE:
        if fruits[:count].count(fruit) == count:
            return name, multiplier
    return None, 0


def spin(rng, bet: int) -> SlotsOutcome:
    """Spin the three reels with rng and settle `bet` (see module doc for draw order)."""
    validate_stake(bet)
    segments: list[int] = []
    positions: list[int] = []
    fruits: list[str] = []
    for reel, table in enumerate(_POSITION_BY_DRAW):
        position = table[rng.randbelow(len(table))]
        positions.append(position)
        segments.append(2 * position - 1 + rng.randbelow(2))
        fruits.append(fruit_at(reel, position))
    combination, multiplier = evaluate(fruits)
    return SlotsOutcome(
        bet=bet,
        segments=(segments[0], segments[1], segments[2]),
        positions=(positions[0], positions[1], positions[2]),
        fruits=(fruits[0], fruits[1], fruits[2]),
        combination=combination,
        multiplier=multiplier,
        payout=bet * multiplier,
    )


def multiplier_distribution() -> dict[int, Fraction]:
    """Return the exact probability of each multiplier, enumerating all weighted stops."""
    weights: dict[int, int] = {}
    for stops in product(*REELS):
        _, multiplier = evaluate([fruit for fruit, _ in stops])
        weight = stops[0][1] * stops[1][1] * stops[2][1]
        weights[multiplier] = weights.get(multiplier, 0) + weight
    total = _TOTAL_WEIGHTS[0] * _TOTAL_WEIGHTS[1] * _TOTAL_WEIGHTS[2]
    return {multiplier: Fraction(weight, total) for multiplier, weight in sorted(weights.items())}


def exact_rtp() -> Fraction:
    """Return the exact return to player, E[multiplier], as a Fraction."""
    return sum((m * p for m, p in multiplier_distribution().items()), Fraction(0))


def signature_hit(outcome: dict) -> bool:
    """True if the round's public outcome is this game's best (statistics count it): three cherries."""
    return outcome.get("combination") == "three_cherries"


def replay(rng, inputs: dict) -> dict:
    """Recompute a spin from its inputs {"bet": int (default 1)}; return its dict."""
    return spin(rng, inputs.get("bet", 1)).to_dict()
