"""Cherry Charm: strips, paytable, exact RTP, draw order and a 1M-spin simulation."""

import json
import math
from fractions import Fraction

import pytest

from imperioApp.games import slots
from imperioApp.games.errors import InvalidBet
from imperioApp.games.fairness import FairRNG, SeededRandomRNG

# The Cherry Charm client's segmentToFruit table, positions 8..15.
CLIENT_STRIPS = (
    ("cherry", "lemon", "lemon", "banana", "banana", "lemon", "apple", "lemon"),
    ("lemon", "lemon", "banana", "apple", "cherry", "lemon", "lemon", "apple"),
    ("lemon", "lemon", "banana", "lemon", "cherry", "apple", "lemon", "apple"),
)


class ListRNG:
    """Returns the given draws in order and records each bound asked for."""

    def __init__(self, draws):
        self.draws = list(draws)
        self.bounds = []

    def randbelow(self, n):
        self.bounds.append(n)
        value = self.draws.pop(0)
        assert 0 <= value < n
        return value


def test_strips_match_the_client():
    for reel, strip in enumerate(CLIENT_STRIPS):
        assert tuple(slots.fruit_at(reel, p) for p in range(8, 16)) == strip


def test_every_reel_weighs_32():
    assert [sum(w for _, w in reel) for reel in slots.REELS] == [32, 32, 32]
    assert all(w > 0 for reel in slots.REELS for _, w in reel)


def test_every_segment_maps_to_its_position():
    owners = {}
    for segment in range(15, 31):
        position = slots.segment_to_position(segment)
        assert position == math.ceil(segment / 2)
        owners.setdefault(position, []).append(segment)
    assert owners == {p: [2 * p - 1, 2 * p] for p in range(8, 16)}


@pytest.mark.parametrize("segment", [14, 31, 0])
def test_segments_outside_the_strip_are_rejected(segment):
    with pytest.raises(ValueError):
        slots.segment_to_position(segment)


@pytest.mark.parametrize(
    ("fruits", "combination", "multiplier"),
    [
        (("cherry", "cherry", "cherry"), "three_cherries", 250),
        (("cherry", "cherry", "lemon"), "two_cherries", 40),
        (("apple", "apple", "apple"), "three_apples", 25),
        (("apple", "apple", "cherry"), "two_apples", 6),
        (("banana", "banana", "banana"), "three_bananas", 15),
        (("banana", "banana", "apple"), "two_bananas", 4),
        (("lemon", "lemon", "lemon"), "three_lemons", 2),
        (("lemon", "lemon", "apple"), None, 0),
        (("lemon", "cherry", "cherry"), None, 0),
        (("cherry", "lemon", "cherry"), None, 0),
        (("apple", "banana", "banana"), None, 0),
    ],
)
def test_paytable_is_left_aligned(fruits, combination, multiplier):
    assert slots.evaluate(fruits) == (combination, multiplier)


def test_exact_rtp_is_the_documented_fraction():
    rtp = slots.exact_rtp()
    assert rtp == Fraction(7865, 8192) == slots.PUBLISHED_RTP
    assert Fraction(94, 100) <= rtp <= Fraction(97, 100)


def test_multiplier_distribution_is_exact():
    distribution = slots.multiplier_distribution()
    assert sum(distribution.values()) == 1
    assert distribution == {
        0: Fraction(22752, 32768),
        2: Fraction(8000, 32768),
        4: Fraction(1050, 32768),
        6: Fraction(560, 32768),
        15: Fraction(294, 32768),
        25: Fraction(80, 32768),
        40: Fraction(31, 32768),
        250: Fraction(1, 32768),
    }


def test_position_draw_walks_cumulative_weights():
    # reel 0 weights: 1, 5, 5, 3, 3, 5, 5, 5
    cases = {0: 8, 1: 9, 5: 9, 6: 10, 10: 10, 11: 11, 16: 12, 17: 13, 26: 14, 27: 15, 31: 15}
    for draw, position in cases.items():
        outcome = slots.spin(ListRNG([draw, 0, 0, 0, 0, 0]), 1)
        assert outcome.positions[0] == position


def test_draw_order_is_position_then_segment_per_reel():
    rng = ListRNG([0, 1, 31, 0, 26, 1])
    outcome = slots.spin(rng, 3)
    assert rng.bounds == [32, 2, 32, 2, 32, 2]
    assert outcome.positions == (8, 15, 14)
    assert outcome.segments == (16, 29, 28)
    assert outcome.fruits == ("cherry", "apple", "lemon")


def test_three_cherries_pay_250_times_the_bet():
    # cherries sit at position 8 (draw 0), 12 (draw 19) and 12 (draw 22)
    outcome = slots.spin(ListRNG([0, 0, 19, 1, 22, 0]), 7)
    assert outcome.fruits == ("cherry", "cherry", "cherry")
    assert (outcome.combination, outcome.multiplier, outcome.payout) == ("three_cherries", 250, 1750)
    assert outcome.segments == (15, 24, 23)


def test_outcome_is_json_ready():
    outcome = slots.spin(FairRNG("0" * 64, "client", 0), 5)
    data = json.loads(json.dumps(outcome.to_dict()))
    assert data == outcome.to_dict()
    assert set(data) == {"bet", "segments", "positions", "fruits", "combination", "multiplier", "payout"}
    assert all(15 <= s <= 30 for s in data["segments"])


@pytest.mark.parametrize("bad", [0, -5, 1.5, "10", True, None])
def test_invalid_bets_are_rejected(bad):
    with pytest.raises(InvalidBet):
        slots.spin(SeededRandomRNG(1), bad)


def test_spins_are_deterministic_for_a_seed_triple():
    first = [slots.spin(FairRNG("ab" * 32, "seed", nonce), 1) for nonce in range(50)]
    again = [slots.spin(FairRNG("ab" * 32, "seed", nonce), 1) for nonce in range(50)]
    assert first == again
    assert len({o.segments for o in first}) > 40


@pytest.mark.simulation
def test_one_million_spins_land_within_five_standard_errors():
    distribution = slots.multiplier_distribution()
    mean = slots.exact_rtp()
    variance = sum(m * m * p for m, p in distribution.items()) - mean * mean
    spins = 1_000_000
    tolerance = 5 * math.sqrt(variance / spins)

    rng = SeededRandomRNG(20240601)
    returned = sum(slots.spin(rng, 1).payout for _ in range(spins))
    measured = returned / spins
    assert abs(measured - float(mean)) < tolerance, (measured, float(mean), tolerance)
