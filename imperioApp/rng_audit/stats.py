"""Empirical tests of a sequence of discrete outcomes, each returning a p-value.

Every test takes the outcomes as integers 0..k-1 and the probability each should have
(``probs``, summing to 1: uniform for roulette pockets, the reel weights for slots), so
the same code tests any game's grouping. Under the null hypothesis (independent draws with
those probabilities) each p-value is uniform on [0, 1]; `judge` looks at all of them together.

Chi-square cells whose expected count is below 5 are pooled (smallest first) so the
asymptotic distribution holds; a test with fewer than two cells left is not reported.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

LEVEL = 0.01  # the 99 % confidence level the standards ask for
MIN_EXPECTED = 5.0


@dataclass(frozen=True)
class Result:
    """One test's outcome: its name, statistic and p-value (the probability of a result this extreme)."""

    test: str
    statistic: float
    p_value: float
    # A p-value from a count over few trials (it takes few values): kept out of the
    # uniformity checks of `judge`, which assume continuous p-values, but not out of the bound.
    discrete: bool = False

    @property
    def passed(self) -> bool:
        """True if the p-value is at or above the 1 % level."""
        return self.p_value >= LEVEL


def _pool(observed, expected):
    """Merge the cells of smallest expectation until every cell expects MIN_EXPECTED or more."""
    order = np.argsort(expected, kind="stable")
    observed, expected = np.asarray(observed, float)[order], np.asarray(expected, float)[order]
    cut = 0
    pooled_obs = pooled_exp = 0.0
    while cut < len(expected) and (expected[cut] < MIN_EXPECTED or 0 < pooled_exp < MIN_EXPECTED):
        pooled_obs += observed[cut]
        pooled_exp += expected[cut]
        cut += 1
    if cut == 0:
        return observed, expected
    return np.append(observed[cut:], pooled_obs), np.append(expected[cut:], pooled_exp)


def chi_square(name, observed, probs, ddof=0):
    """Pearson's goodness-of-fit test of counts against cell probabilities (df = cells - 1 - ddof)."""
    observed = np.asarray(observed, float).ravel()
    expected = np.asarray(probs, float).ravel() * observed.sum()
    observed, expected = _pool(observed, expected)
    if len(observed) < 2:
        return None
    statistic = float(((observed - expected) ** 2 / expected).sum())
    return Result(name, statistic, float(sps.chi2.sf(statistic, len(observed) - 1 - ddof)))


def frequency(name, x, probs):
    """Equidistribution: the count of each outcome against its probability."""
    return chi_square(f"{name}: frequency", np.bincount(x, minlength=len(probs)), probs)


def subsequence_frequencies(name, x, probs, stride=4):
    """Frequency of every `stride`-th outcome (offsets 0..stride-1): a bias tied to position shows here."""
    return [frequency(f"{name}: subsequence {offset} mod {stride}", x[offset::stride], probs) for offset in range(stride)]


def coarsen(x, probs, groups):
    """Map outcomes to `groups` classes of about equal probability (consecutive outcomes); return (classes, their probs)."""
    probs = np.asarray(probs, float)
    middle = np.cumsum(probs) - probs / 2
    label = np.minimum((middle * groups).astype(int), groups - 1)
    # Relabel so the classes actually used are 0..g-1 (a heavy outcome may swallow a class).
    used, label = np.unique(label, return_inverse=True)
    return label[x], np.bincount(label, weights=probs, minlength=len(used))


def pairs(name, x, probs):
    """Serial test: non-overlapping pairs (x[2i], x[2i+1]) against the product of the probabilities."""
    # Coarsen until the table expects enough per cell, so short files still give a sound test.
    groups = max(2, min(len(probs), int(math.sqrt(len(x) / 2 / (4 * MIN_EXPECTED)))))
    x, probs = coarsen(x, probs, groups) if groups < len(probs) else (x, np.asarray(probs, float))
    k, half = len(probs), len(x) // 2
    cells = np.bincount(x[0 : 2 * half : 2] * k + x[1 : 2 * half : 2], minlength=k * k)
    return chi_square(f"{name}: serial pairs ({k}x{k})", cells, np.outer(probs, probs))


def median_split(probs):
    """Return the threshold t whose P(x < t) is nearest 1/2."""
    cumulative = np.cumsum(probs)
    return int(np.argmin(np.abs(cumulative - 0.5))) + 1


def runs(name, x, probs):
    """Wald-Wolfowitz runs test on above/below the median: too few or too many runs (two-sided)."""
    above = x >= median_split(probs)
    n1 = int(above.sum())
    n = len(above)
    n0 = n - n1
    if n0 == 0 or n1 == 0:
        return Result(f"{name}: runs above/below median", math.inf, 0.0)
    observed = 1 + int(np.count_nonzero(above[1:] != above[:-1]))
    mean = 2 * n0 * n1 / n + 1
    variance = 2 * n0 * n1 * (2 * n0 * n1 - n) / (n * n * (n - 1))
    z = (observed - mean) / math.sqrt(variance)
    return Result(f"{name}: runs above/below median", z, float(2 * sps.norm.sf(abs(z))))


def serial_correlation(name, x, lags):
    """Serial correlation at each lag: sqrt(n)·r is about N(0, 1) for independent draws (two-sided)."""
    centred = x - x.mean()
    denominator = float(centred @ centred)
    n = len(x)
    results = []
    for lag in lags:
        r = float(centred[:-lag] @ centred[lag:]) / denominator
        z = (r + 1 / n) * math.sqrt(n)  # E[r] is -1/n, its variance about 1/n
        results.append(Result(f"{name}: serial correlation lag {lag}", r, float(2 * sps.norm.sf(abs(z)))))
    return results


def gap(name, x, probs, members):
    """Gap test: the lengths of the gaps between outcomes in `members` are geometric with their probability."""
    p = float(np.asarray(probs)[list(members)].sum())
    hits = np.flatnonzero(np.isin(x, list(members)))
    gaps = np.diff(hits) - 1
    if len(gaps) == 0:
        return None
    # Lengths 0..t-1 one cell each, the tail >= t one cell; t keeps the tail's expectation >= 5.
    tail = max(1, min(60, int(math.log(MIN_EXPECTED / len(gaps)) / math.log(1 - p)) if p < 1 else 1))
    lengths = np.arange(tail)
    cell_probs = np.append(p * (1 - p) ** lengths, (1 - p) ** tail)
    counts = np.bincount(np.minimum(gaps, tail), minlength=tail + 1)
    label = f"{sorted(members)[0]}..{sorted(members)[-1]}" if len(members) > 1 else str(next(iter(members)))
    return chi_square(f"{name}: gap test on {label} (p={p:.4f})", counts, cell_probs)


def _subset_sums(probs):
    """P(S) for every subset S of the k outcomes, indexed by bitmask."""
    k = len(probs)
    sums = np.zeros(1 << k)
    for bit in range(k):
        sums[1 << bit : 1 << (bit + 1)] = sums[: 1 << bit] + probs[bit]
    return sums


def _sizes(k):
    return np.array([bin(mask).count("1") for mask in range(1 << k)])


def _stirling2(n, k):
    """Stirling number of the second kind {n k}, exactly."""
    return sum((-1) ** (k - j) * math.comb(k, j) * j**n for j in range(k + 1)) // math.factorial(k)


def poker_probabilities(probs, hand):
    """P(a hand of `hand` draws shows exactly r distinct outcomes), r = 1..hand.

    Uniform k outcomes: k(k-1)...(k-r+1)·S(hand, r) / k^hand (Knuth, TAOCP 3.3.2 D).
    Otherwise, by inclusion-exclusion over subsets: the chance that the set of outcomes seen
    is exactly S is sum over T ⊆ S of (-1)^(|S|-|T|) P(T)^hand, then summed by |S|.
    """
    probs = np.asarray(probs, float)
    k = len(probs)
    if np.allclose(probs, 1 / k):
        return np.array([math.perm(k, r) * _stirling2(hand, r) / k**hand for r in range(1, hand + 1)])
    if k > 16:
        raise ValueError("the poker test on a weighted alphabet is limited to 16 outcomes")
    within = _subset_sums(probs) ** hand  # P(all draws fall in S)
    exact = within.copy()
    masks = np.arange(1 << k)
    for bit in range(k):  # Moebius inversion over the subset lattice, one element at a time
        with_bit = masks[masks & (1 << bit) != 0]
        exact[with_bit] -= exact[with_bit ^ (1 << bit)]
    sizes = _sizes(k)
    return np.array([exact[sizes == r].sum() for r in range(1, hand + 1)])


def poker(name, x, probs, hand=5):
    """Poker test: the number of distinct outcomes in consecutive hands of `hand` draws."""
    hands = np.sort(x[: len(x) // hand * hand].reshape(-1, hand), axis=1)
    distinct = 1 + np.count_nonzero(np.diff(hands, axis=1), axis=1)
    counts = np.bincount(distinct - 1, minlength=hand)
    return chi_square(f"{name}: poker test (hands of {hand})", counts, poker_probabilities(probs, hand))


def coupon_cdf(probs, lengths):
    """P(every outcome has appeared within t draws) for each t in `lengths`, by inclusion-exclusion."""
    probs = np.asarray(probs, float)
    k = len(probs)
    if np.allclose(probs, 1 / k):
        # Exact integers: the alternating binomial sum loses every digit in floats for k near 50.
        return np.array([float(sum((-1) ** (k - j) * math.comb(k, j) * j**t for j in range(k + 1)) / k**t) for t in lengths])
    signs = np.where((k - _sizes(k)) % 2, -1.0, 1.0)
    sums = _subset_sums(probs)
    return np.array([float((signs * sums**t).sum()) for t in lengths])


def coupon_lengths(x, k):
    """Return the lengths of consecutive segments each holding every outcome 0..k-1 at least once."""
    lengths = []
    seen = set()
    start = 0
    for index, value in enumerate(x.tolist()):
        seen.add(value)
        if len(seen) == k:
            lengths.append(index + 1 - start)
            seen.clear()
            start = index + 1
    return np.array(lengths, dtype=np.int64)


def coupon(name, x, probs):
    """Coupon collector's test: how many draws a segment needs to show every outcome."""
    k = len(probs)
    lengths = coupon_lengths(x, k)
    if len(lengths) < 2 * MIN_EXPECTED:
        return None
    top = int(lengths.max()) + 1
    cdf = coupon_cdf(probs, range(k - 1, top + 1))
    cell_probs = np.append(np.diff(cdf), 1 - cdf[-1])  # t = k .. top, then > top
    counts = np.append(np.bincount(lengths - k, minlength=top - k + 1), 0)
    return chi_square(f"{name}: coupon collector's", counts, cell_probs)


def permutation(name, groups):
    """Permutation test: the relative order within each row of distinct values is uniform over t! orders."""
    groups = np.asarray(groups)
    t = groups.shape[1]
    ranks = np.argsort(np.argsort(groups, axis=1), axis=1)
    # Lehmer code of each row: a number in 0..t!-1 naming its order.
    code = np.zeros(len(groups), dtype=np.int64)
    for i in range(t):
        smaller_after = (ranks[:, i + 1 :] < ranks[:, i : i + 1]).sum(axis=1)
        code = code * (t - i) + smaller_after
    cells = math.factorial(t)
    return chi_square(f"{name}: permutation test (orders of {t})", np.bincount(code, minlength=cells), np.full(cells, 1 / cells))


def sequence_battery(name, x, probs, lags=8):
    """The tests of one sequence of outcomes: frequency, subsequences, pairs, runs, correlation, gap, poker, coupon."""
    x = np.asarray(x, dtype=np.int64)
    probs = np.asarray(probs, float)
    low = median_split(probs)
    rarest = int(np.argmin(probs))
    uniform = bool(np.allclose(probs, 1 / len(probs)))
    results = [
        frequency(name, x, probs),
        *subsequence_frequencies(name, x, probs),
        pairs(name, x, probs),
        runs(name, x, probs),
        *serial_correlation(name, x, range(1, lags + 1)),
        gap(name, x, probs, set(range(low))),
        gap(name, x, probs, {rarest}),
        poker(name, x, probs) if len(probs) <= 16 or uniform else None,
        # Up to 64 outcomes: beyond, segments grow long and the exact sums cost more than the test tells.
        coupon(name, x, probs) if len(probs) <= 16 or (uniform and len(probs) <= 64) else None,
    ]
    return [result for result in results if result is not None]


def ks_uniform(name, p_values):
    """Kolmogorov-Smirnov test that p-values are uniform on [0, 1]."""
    test = sps.kstest(np.asarray(p_values, float), "uniform")
    return Result(name, float(test.statistic), float(test.pvalue))


def small_count(name, p_values, level=LEVEL):
    """Binomial tail: P(at least this many of n fair p-values fall below `level`)."""
    count = int(np.count_nonzero(np.asarray(p_values) < level))
    return Result(name, count, float(sps.binom.sf(count - 1, len(p_values), level)) if count else 1.0)


def bonferroni(name, p_values):
    """The smallest p-value times the number of tests (capped at 1): no single result is beyond chance."""
    smallest = float(min(p_values))
    return Result(name, smallest, min(1.0, smallest * len(p_values)))
