"""Every problem of the suites: each bundled backend (and each installed peer) is checked
against the definition, then timed in A-B-B-A blocks (``convspec._bench.engine``).  A test fails
when a bundled backend gives a wrong result or raises; no time is asserted."""

import pytest


def test_problem(bench_run, problem):
    suite, line = problem
    records = bench_run.time(suite, line)
    bad = [f"{r['method']}: {r['status']}: {r['why']}" for r in records
           if r["status"] in ("wrong", "error") and r["method"] in bench_run.targets]
    assert not bad, f"{line}: " + "; ".join(bad)
    if not any(r["status"] == "timed" for r in records):
        pytest.skip("; ".join(f"{r['method']}: {r['why']}" for r in records))
