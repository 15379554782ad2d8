"""The NIST SP 800-22 tests against the worked examples of SP 800-22 rev1a, section 2."""

import numpy as np
import pytest

from imperioApp.rng_audit import nist

# The 100 bits (of the binary expansion of e) that section 2's examples run on.
EPSILON_100 = "1100100100001111110110101010001000100001011010001100001000110100110001001100011001100010100010111000"
# 2.4.8's 128 bits.
EPSILON_128 = "11001100000101010110110001001100111000000000001001001101010100010001001111010110100000001101011111001100111001101101100010110010"


def bits(text):
    return np.array([int(ch) for ch in text], dtype=np.uint8)


@pytest.mark.parametrize(
    "test, sequence, expected",
    [
        (nist.frequency, "1011010101", 0.527089),  # 2.1.4
        (nist.frequency, EPSILON_100, 0.109599),  # 2.1.8
        (lambda b: nist.block_frequency(b, 3), "0110011010", 0.801252),  # 2.2.4
        (lambda b: nist.block_frequency(b, 10), EPSILON_100, 0.706438),  # 2.2.8
        (nist.runs, "1001101011", 0.147232),  # 2.3.4
        (nist.runs, EPSILON_100, 0.500798),  # 2.3.8
        (nist.longest_run, EPSILON_128, 0.180598),  # 2.4.8
        (nist.spectral, "1001010011", 0.468160),  # 2.6.4
        (lambda b: nist.approximate_entropy(b, 3), "0100110101", 0.261961),  # 2.12.4
        (lambda b: nist.approximate_entropy(b, 2), EPSILON_100, 0.235301),  # 2.12.8
        (nist.cumulative_sums, "1011010111", 0.4116588),  # 2.13.4
        (nist.cumulative_sums, EPSILON_100, 0.219194),  # 2.13.8, forward
        (lambda b: nist.cumulative_sums(b, reverse=True), EPSILON_100, 0.114866),  # 2.13.8, reverse
    ],
)
def test_published_examples(test, sequence, expected):
    _, p_value = test(bits(sequence))
    assert p_value == pytest.approx(expected, abs=1e-6)


def test_longest_run_counts_the_published_classes():
    assert nist.longest_run(bits(EPSILON_128))[0] == pytest.approx(4.882605, abs=1e-6)
    assert list(np.bincount(np.clip(nist.longest_runs_per_block(bits(EPSILON_128), 8), 1, 4) - 1, minlength=4)) == [4, 9, 3, 0]


def test_serial_example():
    # 2.11.4: m = 3, n = 10: both p-values.
    (delta1, p1), (delta2, p2) = nist.serial(bits("0011011101"), 3)
    assert (delta1, delta2) == (pytest.approx(1.6), pytest.approx(0.8))
    assert (p1, p2) == (pytest.approx(0.808792, abs=1e-6), pytest.approx(0.670320, abs=1e-6))


def test_spectral_100_bit_example_as_its_own_formulas_give_it():
    # 2.6.8 prints N1 = 46 (P = 0.168669), but only 2 of the 50 moduli exceed the section's
    # threshold T = sqrt(ln(20) n) = 17.308 (they are 18.73 and 20.85): N1 = 48, d = 0.458831.
    d, p_value = nist.spectral(bits(EPSILON_100))
    assert d == pytest.approx(0.458831, abs=1e-6)
    assert p_value == pytest.approx(0.646355, abs=1e-6)


def test_bits_are_read_most_significant_first():
    assert list(nist.bits_of(b"\x80\x01")) == [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]


def test_assess_fails_a_biased_stream_and_passes_a_fair_one():
    fair = np.random.default_rng(7).integers(0, 256, 125_000, dtype=np.uint8)
    biased = fair | 0x01  # the last bit of every byte stuck at 1
    assert all(result.p_value > 1e-4 for result in nist.assess(fair.tobytes(), 50_000))
    assert min(result.p_value for result in nist.assess(biased.tobytes(), 50_000)) < 1e-10


def test_assess_needs_one_whole_sequence():
    with pytest.raises(ValueError, match="at least"):
        nist.assess(b"\x00" * 10, 1000)
