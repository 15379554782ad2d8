"""The battery's distributions are exact, and the verdict reads the p-values together."""

import math

import numpy as np
import pytest

from imperioApp.rng_audit import stats


def test_poker_probabilities_uniform_match_knuth():
    # k = 10, hands of 5 (TAOCP 3.3.2): 0.0001, 0.0135, 0.18, 0.504, 0.3024 for 1..5 distinct.
    assert stats.poker_probabilities(np.full(10, 0.1), 5) == pytest.approx([0.0001, 0.0135, 0.18, 0.504, 0.3024])


def test_weighted_poker_and_coupon_agree_with_the_uniform_formulas():
    # The subset formulas for weighted outcomes, given uniform weights (nudged off uniform by 0)
    # must give what the closed forms give.
    probs = np.full(6, 1 / 6)
    weighted = probs.copy()
    weighted[0] += 1e-12
    weighted /= weighted.sum()
    assert stats.poker_probabilities(weighted, 5) == pytest.approx(stats.poker_probabilities(probs, 5), abs=1e-9)
    assert stats.coupon_cdf(weighted, range(5, 40)) == pytest.approx(stats.coupon_cdf(probs, range(5, 40)), abs=1e-9)


def test_coupon_cdf_two_outcomes():
    # Two fair outcomes: both seen within t draws unless all t are the same: 1 - 2 / 2^t.
    assert stats.coupon_cdf([0.5, 0.5], [1, 2, 3, 10]) == pytest.approx([0, 0.5, 0.75, 1 - 2**-9])
    assert stats.coupon_cdf([0.25, 0.75], [2]) == pytest.approx([1 - 0.25**2 - 0.75**2])


def test_coupon_lengths_on_a_known_sequence():
    assert list(stats.coupon_lengths(np.array([0, 0, 1, 1, 0, 1, 1, 1, 0, 1]), 2)) == [3, 2, 4]


def test_permutation_codes_every_order_once():
    from itertools import permutations

    rows = np.array(list(permutations(range(4))))
    result = stats.permutation("all", np.repeat(rows, 5, axis=0))
    assert result.statistic == 0 and result.p_value == pytest.approx(1)


def test_pooling_keeps_every_cell_at_five_or_more():
    observed, expected = stats._pool([1, 2, 50, 0, 40], [1.0, 2.0, 49.0, 1.5, 40.5])
    assert expected.min() >= stats.MIN_EXPECTED and observed.sum() == 93 and expected.sum() == 94


def test_sequence_battery_rejects_a_correlated_sequence():
    x = np.random.default_rng(3).integers(0, 37, 50_000)
    sticky = x.copy()
    sticky[1::2] = (x[0::2] + 1) % 37  # every odd draw follows the even one
    results = stats.sequence_battery("s", sticky, np.full(37, 1 / 37))
    assert next(r for r in results if r.test.startswith("s: serial pairs")).p_value < 1e-10
    _, passed = judge_of(results)
    assert not passed


def judge_of(results):
    from imperioApp.rng_audit.battery import judge

    return judge(results)


def test_verdict_passes_uniform_p_values_and_fails_too_many_small_ones():
    uniform = [stats.Result(str(i), 0, (i + 0.5) / 200) for i in range(200)]
    assert judge_of(uniform)[1]
    # 10 of 200 below 0.01 where 2 are expected, each alone unremarkable against Bonferroni.
    crowded = [stats.Result(str(i), 0, 0.005 if i < 10 else (i + 0.5) / 200) for i in range(200)]
    summary, passed = judge_of(crowded)
    assert not passed and not summary[1].passed and summary[2].passed


def test_verdict_fails_one_extreme_p_value():
    results = [stats.Result(str(i), 0, (i + 0.5) / 100) for i in range(99)] + [stats.Result("x", 0, 1e-9)]
    summary, passed = judge_of(results)
    assert not passed and not summary[2].passed


def test_stirling_numbers():
    assert [stats._stirling2(5, r) for r in range(1, 6)] == [1, 15, 25, 10, 1]
    assert sum(math.perm(37, r) * stats._stirling2(5, r) for r in range(1, 6)) == 37**5
