"""The battery per collection file, and the one verdict over all of its p-values.

Which tests fit which game follows how the stream's numbers are grouped into outcomes:

* roulette: one draw in 37 per spin, so the pocket sequence gets every sequence test at
  k = 37 equiprobable outcomes (`stats.sequence_battery`);
* slots: per reel a weighted position (weights / 32) and a segment (weights / 64): the
  segment frequencies, the sequence tests on each reel's positions with their weights, and
  the three reels jointly (8 x 8 x 8 cells: independent within a spin);
* blackjack: a shuffled shoe of 312 physical cards: the position x card table (every card
  equally likely in every position), the card at each of the first dealt positions, the
  permutation test on consecutive groups of five positions, and the sequence tests on the
  first card dealt across shoes (round-to-round independence);
* raw bytes: NIST SP 800-22 (`nist.assess`), the sequence tests on the bytes, and dieharder.

The verdict (`judge`) never rests on one p-value: with hundreds of tests about 1 % of
fair p-values fall below 0.01. It asks three things, each at the 1 % level: are the
continuous p-values uniform (Kolmogorov-Smirnov), are there more below 0.01 than chance
allows (binomial tail), and is the smallest p-value beyond chance for that many tests
(Bonferroni). A fair generator fails it about 3 % of the time for a fresh collection
(each criterion 1 %); a biased scaler or shuffle fails it every time once the sample is
large enough to see the bias.
"""

from pathlib import Path

import numpy as np

from ..games import slots
from . import dieharder, nist, stats
from .collect import SHOE_CARDS


def read_outcomes(path, game):
    """Return a collection file's outcomes as an integer array (one row per round for slots and blackjack)."""
    text = Path(path).read_text(encoding="ascii")
    # Parsed in C: a Python list of 10^7 strings first would cost half a gigabyte.
    try:
        values = np.fromstring(text, dtype=np.int64, sep=" ") if text.strip() else np.zeros(0, dtype=np.int64)
    except ValueError:
        raise ValueError(f"{path}: not a {game} collection file (a token is no integer)") from None
    width = {"roulette": 1, "slots": 3, "blackjack": SHOE_CARDS}[game]
    if len(values) % width:
        raise ValueError(f"{path}: {len(values)} numbers is not a whole number of {game} rounds")
    return values if width == 1 else values.reshape(-1, width)


def roulette_battery(pockets):
    """The sequence tests on the pockets, 37 equiprobable outcomes."""
    return stats.sequence_battery("roulette", pockets, np.full(37, 1 / 37))


def _reel_probs():
    """Per reel: the probability of each strip position 8..15 (weights / 32)."""
    return [np.array([weight for _, weight in reel], float) / sum(w for _, w in reel) for reel in slots.REELS]


def slots_battery(segments):
    """Segment frequencies per reel, sequence tests per reel's positions, and the reels jointly."""
    positions = (segments + 1) // 2 - slots.FIRST_POSITION  # ceil(s / 2), as index 0..7
    results = []
    reels = _reel_probs()
    for reel, probs in enumerate(reels):
        segment_probs = np.repeat(probs / 2, 2)  # each position's two segments are equally likely
        index = segments[:, reel] - (2 * slots.FIRST_POSITION - 1)
        results.append(stats.frequency(f"slots reel {reel} segments", index, segment_probs))
        results += stats.sequence_battery(f"slots reel {reel} positions", positions[:, reel], probs)
    joint = np.bincount(positions[:, 0] * 64 + positions[:, 1] * 8 + positions[:, 2], minlength=512)
    product = np.einsum("i,j,k->ijk", *reels).ravel()
    results.append(stats.chi_square("slots: three reels jointly (8x8x8)", joint, product))
    return results


def blackjack_battery(shoes, first_positions=4, group=5):
    """Position x card uniformity, the first dealt cards, permutations of five, and the first card across shoes."""
    count, cards = shoes.shape
    table = np.bincount((shoes * cards + np.arange(cards)).ravel(), minlength=cards * cards)
    # Every row and column of the table sums to the number of shoes: (k-1)^2 degrees of freedom.
    results = [
        stats.chi_square(
            f"blackjack: card x position ({cards}x{cards})", table, np.full(cards * cards, 1 / cards**2), ddof=2 * cards - 2
        )
    ]
    uniform52 = np.full(52, 1 / 52)
    for position in range(first_positions):
        results.append(stats.frequency(f"blackjack: card dealt {position + 1}", shoes[:, position] % 52, uniform52))
    groups = shoes[:, : cards // group * group].reshape(-1, group)
    results.append(stats.permutation("blackjack: deal order", groups))
    results += stats.sequence_battery("blackjack first card across shoes", shoes[:, 0] % 52, uniform52)
    return [result for result in results if result is not None]


BATTERIES = {"roulette": roulette_battery, "slots": slots_battery, "blackjack": blackjack_battery}


def audit_outcomes(path, game):
    """Run the game's battery over a collection file."""
    return BATTERIES[game](read_outcomes(path, game))


def audit_raw(path, sequence_bits=1_000_000, sequences=100, run_dieharder=True):
    """NIST SP 800-22 over `sequences` n-bit sequences, the sequence tests on those bytes, and dieharder if asked.

    NIST and the byte tests read the file's first sequences x n bits; dieharder reads all of
    it, as much as each of its tests can take without rewinding. Returns (results, notes):
    notes say what was read and what was left out.
    """
    data = Path(path).read_bytes()
    tested = data[: sequences * sequence_bits // 8]
    notes = [f"NIST and byte tests: the first {len(tested)} bytes of {len(data)}"]
    results = nist.assess(tested, sequence_bits, sequences)
    results += stats.sequence_battery("raw bytes", np.frombuffer(tested, dtype=np.uint8), np.full(256, 1 / 256))
    if run_dieharder:
        found, skipped = dieharder.run(path)
        results += found
        if skipped:
            notes.append(f"dieharder tests {', '.join(map(str, skipped))} left out: the file is too short to feed them")
    return results, notes


def judge(results):
    """Return (summary results, passed): uniformity, the count of small p-values, and the smallest, each at 1 %."""
    continuous = [result.p_value for result in results if not result.discrete]
    every = [result.p_value for result in results]
    summary = [
        stats.ks_uniform(f"verdict: the {len(continuous)} continuous p-values are uniform (KS)", continuous),
        stats.small_count(
            f"verdict: p-values below 0.01 (about {stats.LEVEL * len(continuous):.1f} expected; binomial)", continuous
        ),
        stats.bonferroni(f"verdict: smallest of {len(every)} p-values, times {len(every)} (Bonferroni)", every),
    ]
    return summary, all(result.passed for result in summary)


def table(results, summary):
    """Render the results and the verdict as an aligned text table."""
    rows = [("test", "statistic", "p-value", "result")]
    for result in [*results, *summary]:
        statistic = "-" if np.isnan(result.statistic) else f"{result.statistic:.6g}"
        rows.append((result.test, statistic, f"{result.p_value:.6f}", "pass" if result.passed else "FAIL"))
    width = max(len(row[0]) for row in rows)
    lines = [f"{name:<{width}}  {statistic:>12}  {p_value:>9}  {verdict}" for name, statistic, p_value, verdict in rows]
    lines.insert(len(results) + 1, "-" * len(lines[0]))
    return "\n".join(lines)
