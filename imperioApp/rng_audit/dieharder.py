"""Debian's `dieharder` over a raw collection file, each test sized so the file is never rewound.

dieharder's file input (generator 201, raw binary) starts again from the beginning when a
test needs more words than the file holds, and repeated data makes any test fail or pass
for the wrong reason. So every test here is given as many p-samples as the file feeds
without rewinding (at most dieharder's default 100, at least MIN_PSAMPLES), a test the file
cannot feed is left out and said so, and a run that reports a rewind anyway is rejected.
"""

import shutil
import subprocess  # nosec B404  # runs the dieharder binary with a fixed argument list, no shell
from pathlib import Path

from .stats import Result

MIN_PSAMPLES = 10
MAX_PSAMPLES = 100
WORD_BYTES = 4
# dieharder test number -> 32-bit words one p-sample reads with the default t-samples
# (measured on this build: the count of rewinds of a file of known length, with a margin).
WORDS_PER_PSAMPLE = {
    0: 60_000,  # diehard_birthdays
    3: 650_000,  # diehard_rank_6x8
    8: 300_000,  # diehard_count_1s_str
    10: 40_000,  # diehard_parking_lot
    15: 110_000,  # diehard_runs
    100: 110_000,  # sts_monobit
    101: 110_000,  # sts_runs
    102: 110_000,  # sts_serial
    202: 550_000,  # rgb_permutations
}


def available() -> bool:
    """True if the dieharder binary is on PATH."""
    return shutil.which("dieharder") is not None


def plan(size_bytes):
    """Return [(test number, p-samples)] that a file of `size_bytes` feeds without rewinding."""
    words = size_bytes // WORD_BYTES
    chosen = []
    for test, per_psample in WORDS_PER_PSAMPLE.items():
        psamples = min(MAX_PSAMPLES, words // per_psample)
        if psamples >= MIN_PSAMPLES:
            chosen.append((test, psamples))
    return chosen


def parse(output: str):
    """Return the Results of dieharder's `name|ntuple|tsamples|psamples|p-value|assessment` lines."""
    if "rewound" in output:
        raise RuntimeError("dieharder rewound the file: its results would repeat data")
    results = []
    seen = set()
    for line in output.splitlines():
        fields = line.strip().split("|")
        if line.startswith("#") or len(fields) != 6:
            continue
        name, ntuple, _, psamples, p_value, _ = fields
        label = f"dieharder {name}" + (f" ntuple {ntuple}" if ntuple not in ("0", "") else "")
        # Some tests report two statistics under one name (runs up and down, serial's two).
        label += " (second)" if label in seen else ""
        seen.add(label)
        label += f" ({psamples} p-samples)"
        results.append(Result(label, float("nan"), float(p_value)))
    return results


def run(path, timeout=1800):
    """Run the planned dieharder tests on the raw file at `path`; return (Results, the tests left out)."""
    binary = shutil.which("dieharder")
    if binary is None:
        raise RuntimeError("dieharder is not installed (Debian package `dieharder`)")
    size = Path(path).stat().st_size
    chosen = plan(size)
    skipped = sorted(set(WORDS_PER_PSAMPLE) - {test for test, _ in chosen})
    results = []
    for test, psamples in chosen:
        # Flags: test name, ntuple, t-samples, p-samples, p-value, assessment; no speed test,
        # which would read words of the file before the test does.
        command = [binary, "-g", "201", "-f", str(path), "-d", str(test), "-p", str(psamples)]
        command += ["-D", "8", "-D", "16", "-D", "32", "-D", "64", "-D", "128", "-D", "256", "-D", "32768"]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)  # nosec B603
        results.extend(parse(completed.stdout + completed.stderr))
    return results, skipped
