"""NIST SP 800-22 rev1a statistical tests of a bit sequence, and NIST's two-level assessment.

Each test follows the section of SP 800-22 rev1a named in its docstring and is checked
against that section's worked example in the tests (e.g. 2.1.8: the 100 bits of the
example give P-value 0.109599). Bits are numpy arrays of 0/1, the first bit of a byte
being its most significant (as the stream's big-endian words read it).

A long stream is split into sequences of n bits (10^6 by default, as NIST runs it); every
test runs on each sequence, and `assess` then judges each test over all sequences the way
SP 800-22 section 4.2 does: the proportion of sequences passing at 1 %, and the uniformity
of their p-values (a chi-square over ten bins).
"""

import math

import numpy as np
from scipy import special
from scipy import stats as sps

from .stats import LEVEL, Result, ks_uniform


def bits_of(data: bytes) -> np.ndarray:
    """Return the bits of `data`, most significant bit of each byte first."""
    return np.unpackbits(np.frombuffer(data, dtype=np.uint8))


def frequency(bits):
    """2.1 Frequency (monobit): the proportion of ones is near 1/2."""
    n = len(bits)
    s_obs = abs(2 * int(bits.sum()) - n) / math.sqrt(n)
    return s_obs, math.erfc(s_obs / math.sqrt(2))


def block_frequency(bits, m=128):
    """2.2 Frequency within blocks of m bits."""
    blocks = len(bits) // m
    pi = bits[: blocks * m].reshape(blocks, m).mean(axis=1)
    chi2 = 4 * m * float(((pi - 0.5) ** 2).sum())
    return chi2, float(special.gammaincc(blocks / 2, chi2 / 2))


def runs(bits):
    """2.3 Runs: the number of runs of identical bits (after the monobit prerequisite)."""
    n = len(bits)
    pi = bits.mean()
    if abs(pi - 0.5) >= 2 / math.sqrt(n):
        return math.nan, 0.0  # the frequency prerequisite fails: NIST reports P = 0
    v_obs = 1 + int(np.count_nonzero(bits[1:] != bits[:-1]))
    numerator = abs(v_obs - 2 * n * pi * (1 - pi))
    return v_obs, math.erfc(numerator / (2 * math.sqrt(2 * n) * pi * (1 - pi)))


# 2.4.2: block length M, the classes v_0..v_K of the longest run, and their probabilities.
_LONGEST_RUN = (
    (128, 8, (1, 2, 3, 4), (0.2148, 0.3672, 0.2305, 0.1875)),
    (6272, 128, (4, 5, 6, 7, 8, 9), (0.1174, 0.2430, 0.2493, 0.1752, 0.1027, 0.1124)),
    (750000, 10000, (10, 11, 12, 13, 14, 15, 16), (0.0882, 0.2092, 0.2483, 0.1933, 0.1208, 0.0675, 0.0727)),
)


def longest_runs_per_block(bits, m):
    """Return the longest run of ones in each block of m bits."""
    blocks = len(bits) // m
    grid = np.zeros((blocks, m + 2), dtype=np.int8)  # a zero on each side ends every run at its block's edge
    grid[:, 1:-1] = bits[: blocks * m].reshape(blocks, m)
    edges = np.diff(grid.ravel())
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    longest = np.zeros(blocks, dtype=np.int64)
    np.maximum.at(longest, starts // (m + 2), ends - starts)
    return longest


def longest_run(bits):
    """2.4 Longest run of ones in a block (M = 8, 128 or 10^4 by the sequence's length)."""
    n = len(bits)
    minimum, m, classes, probs = next(row for row in reversed(_LONGEST_RUN) if n >= row[0])
    longest = np.clip(longest_runs_per_block(bits, m), classes[0], classes[-1])
    counts = np.bincount(longest - classes[0], minlength=len(classes))
    blocks = counts.sum()
    chi2 = float((((counts - blocks * np.array(probs)) ** 2) / (blocks * np.array(probs))).sum())
    return chi2, float(special.gammaincc((len(classes) - 1) / 2, chi2 / 2))


def spectral(bits):
    """2.6 Discrete Fourier transform: too many peaks above the 95 % threshold reveal periodicity."""
    n = len(bits)
    x = 2.0 * bits - 1
    modulus = np.abs(np.fft.fft(x)[: n // 2])
    threshold = math.sqrt(math.log(1 / 0.05) * n)
    n0 = 0.95 * n / 2
    n1 = int(np.count_nonzero(modulus < threshold))
    d = (n1 - n0) / math.sqrt(n * 0.95 * 0.05 / 4)
    return d, math.erfc(abs(d) / math.sqrt(2))


def _pattern_counts(bits, m):
    """Counts of each overlapping m-bit pattern, the sequence wrapped around (m-1 bits appended)."""
    if m == 0:
        return np.array([len(bits)])
    n = len(bits)
    extended = np.concatenate([bits, bits[: m - 1]]).astype(np.int64)
    value = np.zeros(n, dtype=np.int64)
    for j in range(m):
        value = (value << 1) | extended[j : j + n]
    return np.bincount(value, minlength=1 << m)


def _psi_squared(bits, m):
    if m <= 0:
        return 0.0
    n = len(bits)
    counts = _pattern_counts(bits, m)
    return float((counts.astype(float) ** 2).sum()) * (1 << m) / n - n


def serial(bits, m=16):
    """2.11 Serial: the frequencies of all overlapping m-bit patterns; two p-values."""
    psi_m, psi_m1, psi_m2 = (_psi_squared(bits, m - i) for i in range(3))
    delta1, delta2 = psi_m - psi_m1, psi_m - 2 * psi_m1 + psi_m2
    p1 = float(special.gammaincc(2 ** (m - 2), delta1 / 2))
    p2 = float(special.gammaincc(2 ** (m - 3), delta2 / 2))
    return (delta1, p1), (delta2, p2)


def _phi(bits, m):
    counts = _pattern_counts(bits, m)
    c = counts[counts > 0] / len(bits)
    return float((c * np.log(c)).sum())


def approximate_entropy(bits, m=10):
    """2.12 Approximate entropy: overlapping m- and (m+1)-bit patterns against a random sequence."""
    n = len(bits)
    ap_en = _phi(bits, m) - _phi(bits, m + 1)
    chi2 = 2 * n * (math.log(2) - ap_en)
    return chi2, float(special.gammaincc(2 ** (m - 1), chi2 / 2))


def _c_div(a: int, b: int) -> int:
    return -(-a // b) if (a < 0) != (b < 0) else a // b


def cumulative_sums(bits, reverse=False):
    """2.13 Cumulative sums (mode 0 forward, mode 1 backward): the random walk's largest excursion."""
    n = len(bits)
    x = 2 * bits.astype(np.int64) - 1
    z = int(np.abs(np.cumsum(x[::-1] if reverse else x)).max())
    root = math.sqrt(n)
    total = 1.0
    # The summation limits divide as C does (toward zero), as NIST's reference code and its
    # published examples do; Python's floor division would add terms (7e-5 at n = 10).
    for k in range(_c_div(_c_div(-n, z) + 1, 4), _c_div(_c_div(n, z) - 1, 4) + 1):
        total -= sps.norm.cdf((4 * k + 1) * z / root) - sps.norm.cdf((4 * k - 1) * z / root)
    for k in range(_c_div(_c_div(-n, z) - 3, 4), _c_div(_c_div(n, z) - 1, 4) + 1):
        total += sps.norm.cdf((4 * k + 3) * z / root) - sps.norm.cdf((4 * k + 1) * z / root)
    return z, float(total)


def run_all(bits):
    """Every test on one sequence: {test name: p-value}."""
    log2_n = int(math.log2(len(bits)))
    # The block lengths NIST recommends (16 and 10), shortened as 2.11.7 and 2.12.7 require
    # for shorter sequences: m < floor(log2 n) - 2, and m < floor(log2 n) - 5.
    (_, serial1), (_, serial2) = serial(bits, min(16, log2_n - 3))
    return {
        "frequency": frequency(bits)[1],
        "block frequency (M=128)": block_frequency(bits)[1],
        "runs": runs(bits)[1],
        "longest run of ones": longest_run(bits)[1],
        "spectral (DFT)": spectral(bits)[1],
        "serial 1": serial1,
        "serial 2": serial2,
        "approximate entropy": approximate_entropy(bits, min(10, log2_n - 6))[1],
        "cumulative sums forward": cumulative_sums(bits)[1],
        "cumulative sums backward": cumulative_sums(bits, reverse=True)[1],
    }


def assess(data: bytes, sequence_bits=1_000_000, max_sequences=None):
    """Run every test on each n-bit sequence of `data`; judge each test over the sequences (SP 800-22 4.2).

    Only the first `max_sequences` sequences are tested if it is given. For each test two
    results join the battery: the count of sequences failing at 1 %
    (binomial tail: the proportion check of 4.2.1; a discrete p-value, judged only against
    the family-wise bound) and the uniformity of the sequences' p-values (4.2.2; a
    Kolmogorov-Smirnov test, which needs no binning, in place of the ten-bin chi-square).
    """
    bits = bits_of(data)
    sequences = len(bits) // sequence_bits
    if max_sequences is not None:
        sequences = min(sequences, max_sequences)
    if sequences < 1:
        raise ValueError(f"{len(bits)} bits: at least {sequence_bits} are needed")
    per_test: dict[str, list[float]] = {}
    for index in range(sequences):
        for name, p_value in run_all(bits[index * sequence_bits : (index + 1) * sequence_bits]).items():
            per_test.setdefault(name, []).append(p_value)
    results = []
    for name, p_values in per_test.items():
        failures = int(np.count_nonzero(np.array(p_values) < LEVEL))
        tail = float(sps.binom.sf(failures - 1, sequences, LEVEL)) if failures else 1.0
        results.append(Result(f"NIST {name}: {sequences - failures}/{sequences} sequences pass", failures, tail, discrete=True))
        if sequences >= 2:
            results.append(ks_uniform(f"NIST {name}: p-values of {sequences} sequences uniform (KS)", p_values))
    return results
