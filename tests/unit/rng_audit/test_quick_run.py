"""The quick run CI makes: `flask fairness audit` collects from the production engines and passes.

Sizes are the CLI's QUICK_SIZES (10^6 roulette spins, 5·10^5 slot spins, 2·10^4 shoes,
40 MB of raw stream with dieharder). The master seed fixes the collection, so the verdict is
the same on every run: a fresh collection would fail a fair generator about 3 % of the time
by design (three criteria at 1 %), which a gate must not do.
"""

import pytest

from imperioApp.cli import QUICK_SIZES

pytestmark = pytest.mark.rng_audit


def test_the_quick_run_passes_on_the_production_engines(app, tmp_path):
    report = tmp_path / "report.txt"
    result = app.test_cli_runner().invoke(args=["fairness", "audit", "--seed", "c1", "--report", str(report)])
    assert result.exit_code == 0, result.output
    last = result.output.rstrip().splitlines()[-1]
    assert last.startswith("PASS") and "dieharder" in result.output
    assert QUICK_SIZES["roulette"] >= 10**6 and report.read_text().rstrip().endswith(last)
