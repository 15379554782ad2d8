"""The RNG audit's full run: collect at a lab's sizes, run the battery, write a dated report.

    .venv/bin/python bench/rng_audit_full.py                          # the sizes below
    .venv/bin/python bench/rng_audit_full.py --roulette 100000000 ... # a lab's own sizes

It runs the same code as `flask fairness collect` and `flask fairness audit` (fresh seed
pairs from the OS CSPRNG unless --seed is given), times each step, and writes the report
(machine, sizes, times, every test and the verdict) to --report. Exit status 1 if the
verdict fails. The collection files stay in --out for a lab to take.
"""

import argparse
import os
import platform
import subprocess  # nosec B404  # reads the dieharder version, fixed argument list
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from imperioApp.rng_audit import battery, collect  # noqa: E402

LAB_SIZES = (
    "What a lab would run: the same tools at larger sizes, typically tens of millions of outcomes per game "
    "(e.g. 10^8 roulette spins, 10^7 to 10^8 slot spins, 10^6 to 10^7 shoes), NIST SP 800-22's 1,000 sequences "
    "of 10^6 bits (125 MB), and dieharder over a raw file long enough for all its tests at their default sizes "
    "without rewinding (several GB). The collection tools stream to files at about 10 us per roulette spin, "
    "20 us per slot spin and 0.4 ms per shoe on one core of this machine, so those sizes are "
    "hours, not days; pass them to this script (--roulette, --slots, --blackjack, --raw, --sequences)."
)


def machine():
    """One line about the machine: cores, CPU model, load, Python, dieharder."""
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in line),
        platform.processor(),
    )
    try:
        banner = subprocess.run(["dieharder", "-l"], capture_output=True, text=True, check=False).stdout  # nosec B603 B607
        dieharder = next((word for word in banner.split() if word[:1].isdigit()), "?")
    except FileNotFoundError:
        dieharder = "not installed"
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    python = platform.python_version()
    return f"{os.cpu_count()} cores ({model}), load average {load} at the start; Python {python}; dieharder {dieharder}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roulette", type=int, default=10_000_000)
    parser.add_argument("--slots", type=int, default=4_000_000)
    parser.add_argument("--blackjack", type=int, default=100_000)
    parser.add_argument("--raw", type=int, default=400_000_000, help="bytes")
    parser.add_argument("--sequences", type=int, default=300, help="NIST sequences of --sequence-bits")
    parser.add_argument("--sequence-bits", type=int, default=1_000_000)
    parser.add_argument("--seed", help="derive the seed pairs from this hex master seed")
    parser.add_argument("--out", default="bench/results/rng_audit")
    parser.add_argument("--report", default="docs/rng-audit-report.md")
    args = parser.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    about = machine()
    started = datetime.now(timezone.utc)
    timings = []

    def timed(label, action):
        begin = time.perf_counter()
        value = action()
        timings.append((label, time.perf_counter() - begin))
        print(f"{label}: {timings[-1][1]:.0f} s", flush=True)
        return value

    sizes = {"roulette": args.roulette, "slots": args.slots, "blackjack": args.blackjack}
    timed(f"collect raw, {args.raw} bytes", lambda: collect.collect_raw(out / "raw.bin", args.raw, master=args.seed))
    for game, count in sizes.items():
        path = out / f"{game}.txt"
        label = f"collect {game}, {count} rounds"
        timed(label, lambda p=path, g=game, c=count: collect.collect_outcomes(p, g, c, master=args.seed))
    raw_results, notes = timed(
        "audit raw (NIST, byte tests, dieharder)",
        lambda: battery.audit_raw(out / "raw.bin", args.sequence_bits, args.sequences, run_dieharder=True),
    )
    results = list(raw_results)
    for game in sizes:
        results += timed(f"audit {game}", lambda g=game: battery.audit_outcomes(out / f"{g}.txt", g))
    summary, passed = battery.judge(results)
    total = sum(seconds for _, seconds in timings)

    lines = [
        "# RNG audit: the full run",
        "",
        f"Run {started.strftime('%Y-%m-%d %H:%M UTC')} by `bench/rng_audit_full.py`"
        f"{' --seed ' + args.seed if args.seed else ' (fresh seed pairs from the OS CSPRNG)'}.",
        "",
        f"Machine: {about}.",
        "",
        "## Sizes and times",
        "",
        "| step | seconds |",
        "| --- | ---: |",
        *(f"| {label} | {seconds:.0f} |" for label, seconds in timings),
        f"| **total** | **{total:.0f}** |",
        "",
        f"NIST SP 800-22: {args.sequences} sequences of {args.sequence_bits} bits. "
        + " ".join(f"{note[0].upper()}{note[1:]}." for note in notes),
        "",
        LAB_SIZES,
        "",
        "## Results",
        "",
        f"**{'PASS' if passed else 'FAIL'}**: {len(results)} tests; the verdict reads all their p-values together"
        ' (docs/fairness.md, "Evidence for a test lab"). A row marked FAIL alone is one p-value below 0.01,'
        " which about 1 % of rows show by chance.",
        "",
        "```",
        battery.table(results, summary),
        "```",
        "",
    ]
    Path(args.report).write_text("\n".join(lines))
    print(f"{'PASS' if passed else 'FAIL'}: report in {args.report}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
