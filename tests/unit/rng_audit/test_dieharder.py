"""The dieharder wrapper: tests sized so the file is never rewound, and its table read."""

import pytest

from imperioApp.rng_audit import collect, dieharder

OUTPUT = """#=============================================================================#
diehard_birthdays|0|100|100|0.42149514|PASSED
sts_serial|2|100000|50|0.05930047|PASSED
"""


def test_parse_reads_each_test_line():
    results = dieharder.parse(OUTPUT)
    assert [(r.test, r.p_value) for r in results] == [
        ("dieharder diehard_birthdays (100 p-samples)", 0.42149514),
        ("dieharder sts_serial ntuple 2 (50 p-samples)", 0.05930047),
    ]


def test_a_rewound_file_is_refused():
    with pytest.raises(RuntimeError, match="rewound"):
        dieharder.parse("# The file file_input_raw was rewound 1 times\n" + OUTPUT)


def test_plan_fits_the_file():
    assert dieharder.plan(0) == []
    plan = dict(dieharder.plan(40_000_000))
    assert plan[0] == 100 and plan[3] == 15
    for test, psamples in plan.items():
        assert dieharder.MIN_PSAMPLES <= psamples <= dieharder.MAX_PSAMPLES
        assert psamples * dieharder.WORDS_PER_PSAMPLE[test] * dieharder.WORD_BYTES <= 40_000_000


@pytest.mark.skipif(not dieharder.available(), reason="dieharder is not installed")
def test_run_on_a_short_file_runs_what_it_feeds(tmp_path):
    raw = tmp_path / "raw.bin"
    collect.collect_raw(raw, 3_000_000, master="d1e0")
    results, skipped = dieharder.run(raw)
    assert results and all(0 <= r.p_value <= 1 for r in results)
    assert 3 in skipped and 202 in skipped  # the rank and permutation tests need more than 3 MB
