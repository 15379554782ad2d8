"""European roulette: every legal placement returns 36/37, shapes, legacy numbers."""

import itertools
from fractions import Fraction

import pytest

from imperioApp.games import roulette
from imperioApp.games.errors import InvalidBet
from imperioApp.games.fairness import FairRNG

EXPECTED_COUNTS = {
    "straight": 37, "split": 60, "street": 12, "trio": 2, "corner": 22, "basket": 1,
    "six_line": 11, "dozen": 3, "column": 3,
    "red": 1, "black": 1, "odd": 1, "even": 1, "low": 1, "high": 1,
}  # fmt: skip
OUTSIDE = ("dozen", "column", "red", "black", "odd", "even", "low", "high")


class FixedRNG:
    def __init__(self, value):
        self.value = value

    def randbelow(self, n):
        assert n == 37
        return self.value


def all_legal_bets(amount=1):
    return [roulette.make_bet(kind, amount, sorted(cover)) for kind, covers in roulette.PLACEMENTS.items() for cover in covers]


def test_placement_counts():
    assert {kind: len(covers) for kind, covers in roulette.PLACEMENTS.items()} == EXPECTED_COUNTS
    assert set(roulette.PLACEMENTS) == set(roulette.ODDS)


def test_no_cover_belongs_to_two_types():
    covers = [cover for covers in roulette.PLACEMENTS.values() for cover in covers]
    assert len(covers) == len(set(covers))


def test_every_legal_bet_returns_36_37():
    bets = all_legal_bets(amount=1)
    assert len(bets) == sum(EXPECTED_COUNTS.values())
    for bet in bets:
        expected_return = Fraction(sum(bet.payout(pocket) for pocket in range(37)), 37)
        assert expected_return == Fraction(36, 37), bet
        assert len(bet.numbers) * (bet.odds + 1) == 36


def test_shapes_sit_on_the_layout():
    def cell(n):
        return divmod(n - 1, 3)  # (row, column)

    for a, b in (sorted(c) for c in roulette.PLACEMENTS["split"]):
        if a == 0:
            assert b in (1, 2, 3)
        else:
            (ra, ca), (rb, cb) = cell(a), cell(b)
            assert abs(ra - rb) + abs(ca - cb) == 1
    for cover in roulette.PLACEMENTS["corner"]:
        rows = {cell(n)[0] for n in cover}
        cols = {cell(n)[1] for n in cover}
        assert len(rows) == 2 and len(cols) == 2 and max(rows) - min(rows) == 1 and max(cols) - min(cols) == 1
    for cover in roulette.PLACEMENTS["street"]:
        assert len({cell(n)[0] for n in cover}) == 1
    for cover in roulette.PLACEMENTS["six_line"]:
        rows = sorted({cell(n)[0] for n in cover})
        assert len(cover) == 6 and rows[1] - rows[0] == 1


def test_colours_of_the_real_wheel():
    assert len(roulette.RED) == len(roulette.BLACK) == 18
    assert roulette.RED | roulette.BLACK == set(range(1, 37))
    assert roulette.pocket_color(0) == "green"
    assert roulette.pocket_color(1) == "red" and roulette.pocket_color(2) == "black"
    assert roulette.pocket_color(10) == "black" and roulette.pocket_color(19) == "red"
    assert sorted(roulette.WHEEL_ORDER) == list(range(37))
    # red and black alternate around the wheel after the zero
    colours = [roulette.pocket_color(n) for n in roulette.WHEEL_ORDER[1:]]
    assert all(a != b for a, b in itertools.pairwise(colours))


def test_zero_loses_every_outside_bet():
    for kind in OUTSIDE:
        for cover in roulette.PLACEMENTS[kind]:
            assert roulette.make_bet(kind, 10, sorted(cover)).payout(0) == 0


def test_payout_is_gross_and_server_side():
    assert roulette.make_bet("straight", 10, [17]).payout(17) == 360
    assert roulette.make_bet("split", 10, [0, 2]).payout(0) == 180
    assert roulette.make_bet("basket", 3).payout(3) == 27
    assert roulette.make_bet("red", 10).payout(1) == 20
    assert roulette.make_bet("dozen", 4, index=3).payout(36) == 12
    assert roulette.make_bet("column", 4, index=1).payout(34) == 12
    assert roulette.make_bet("column", 4, index=1).payout(36) == 0


@pytest.mark.parametrize(
    ("kind", "numbers"),
    [
        ("split", [1, 5]), ("split", [3, 4]), ("split", [0, 4]), ("split", [12, 13]),
        ("split", [34, 37]), ("split", [7]), ("straight", [37]), ("straight", [-1]),
        ("street", [2, 3, 4]), ("street", [0, 1, 2]), ("trio", [0, 1, 3]), ("trio", [1, 2, 3]),
        ("corner", [1, 2, 3, 4]), ("corner", [3, 4, 6, 7]), ("corner", [0, 1, 2, 3]),
        ("basket", [0, 1, 2, 4]), ("six_line", [1, 2, 3, 7, 8, 9]), ("six_line", [2, 3, 4, 5, 6, 7]),
        ("dozen", [1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31, 34]), ("column", list(range(1, 13))),
        ("red", [2]), ("low", list(range(1, 19))[:-1]),
    ],
)  # fmt: skip
def test_illegal_shapes_are_rejected(kind, numbers):
    with pytest.raises(InvalidBet):
        roulette.make_bet(kind, 1, numbers)


@pytest.mark.parametrize(
    "data",
    [
        {"type": "nope", "amount": 1},
        {"type": None, "amount": 1},
        {"type": ["split"], "amount": 1},
        {"type": "straight", "amount": 1},
        {"type": "straight", "numbers": "17", "amount": 1},
        {"type": "straight", "numbers": [True], "amount": 1},
        {"type": "split", "numbers": [1, 1], "amount": 1},
        {"type": "split", "numbers": [1.0, 2], "amount": 1},
        {"type": "dozen", "amount": 1},
        {"type": "dozen", "index": 4, "amount": 1},
        {"type": "dozen", "index": True, "amount": 1},
        {"type": "red", "index": 1, "amount": 1},
        {"type": "dozen", "index": 1, "numbers": list(range(1, 13)), "amount": 1},
        {"type": "red", "amount": 0},
        {"type": "red", "amount": -3},
        {"type": "red", "amount": 2.5},
        {"type": "red", "amount": "5"},
        {"type": "red"},
        "red",
    ],
)
def test_malformed_bets_are_rejected(data):
    with pytest.raises(InvalidBet):
        roulette.parse_bet(data)


def test_dozen_and_column_accept_index_or_numbers():
    by_index = roulette.parse_bet({"type": "dozen", "index": 2, "amount": 5})
    by_numbers = roulette.parse_bet({"type": "dozen", "numbers": list(range(24, 12, -1)), "amount": 5})
    assert by_index == by_numbers and by_index.numbers == tuple(range(13, 25))
    assert roulette.make_bet("column", 1, index=3).numbers == tuple(range(3, 37, 3))


def test_bet_dicts_round_trip_and_odds_from_clients_are_ignored():
    for bet in all_legal_bets(amount=3):
        assert roulette.parse_bet(bet.to_dict()) == bet
    cheeky = roulette.parse_bet({"type": "straight", "numbers": [5], "amount": 1, "odds": 1000})
    assert cheeky.odds == 35 and cheeky.payout(5) == 36


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("0", "straight"), ("17", "straight"), ("2, 3", "split"), ("3, 6", "split"), ("0,2", "split"),
        ("1, 2, 3", "street"), ("0, 1, 2", "trio"), ("0,2,3", "trio"), ("2, 3, 5, 6", "corner"),
        ("0, 1, 2, 3", "basket"), ("1, 2, 3, 4, 5, 6", "six_line"),
        ("1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12", "dozen"),
        ("3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36", "column"),
        ("1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18", "low"),
        ("19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36", "high"),
        ("2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36", "even"),
        ("1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, 33, 35", "odd"),
        ("1, 3, 5, 7, 9, 12, 14, 16, 18, 19, 21, 23, 25, 27, 30, 32, 34, 36", "red"),
        ("2, 4, 6, 8, 10, 11, 13, 15, 17, 20, 22, 24, 26, 28, 29, 31, 33, 35", "black"),
    ],
)  # fmt: skip
def test_legacy_numbers_are_classified(text, kind):
    numbers = roulette.parse_legacy_numbers(text)
    assert roulette.classify_numbers(numbers) == kind
    bet = roulette.legacy_bet({"amt": 5, "numbers": text, "odds": 99, "type": "inside_whole"})
    assert bet.type == kind and bet.odds == roulette.ODDS[kind]


@pytest.mark.parametrize("numbers", [[1, 5], [1, 2, 3, 4, 5], [0, 4], [1, 2, 4, 5, 7], [], [1, 1], [37]])
def test_unclassifiable_numbers_are_rejected(numbers):
    with pytest.raises(InvalidBet):
        roulette.classify_numbers(numbers)


@pytest.mark.parametrize("text", ["", "  ", "a,b", "1,,2", "1;2", "-1", "1.5", "\u0663", None, 7])
def test_malformed_legacy_numbers_are_rejected(text):
    with pytest.raises(InvalidBet):
        roulette.parse_legacy_numbers(text)


def test_parse_legacy_numbers_tolerates_spaces():
    assert roulette.parse_legacy_numbers(" 1, 2 ,3") == [1, 2, 3]


def test_play_settles_every_bet_on_one_pocket():
    bets = [
        roulette.make_bet("straight", 2, [33]),
        roulette.make_bet("black", 5),
        roulette.make_bet("dozen", 1, index=1),
    ]
    outcome = roulette.play(FixedRNG(33), bets)
    assert outcome.pocket == 33
    assert outcome.payouts == (72, 10, 0)
    assert outcome.total_bet == 8 and outcome.total_payout == 82
    data = outcome.to_dict()
    assert data["color"] == "black" and [b["payout"] for b in data["bets"]] == [72, 10, 0]
    assert roulette.settle(bets, 0) == [0, 0, 0]


def test_play_needs_a_bet():
    with pytest.raises(InvalidBet):
        roulette.play(FixedRNG(0), [])


def test_spin_draws_randbelow_37_from_the_stream():
    pockets = {roulette.spin(FairRNG("cd" * 32, "seed", nonce)) for nonce in range(400)}
    assert pockets == set(range(37))


def test_replay_uses_the_api_bet_form():
    rng = FairRNG("cd" * 32, "seed", 3)
    pocket = roulette.spin(FairRNG("cd" * 32, "seed", 3))
    result = roulette.replay(rng, {"bets": [{"type": "straight", "numbers": [pocket], "amount": 1}]})
    assert result["pocket"] == pocket and result["total_payout"] == 36
    with pytest.raises(InvalidBet):
        roulette.replay(rng, {"bets": "red"})
