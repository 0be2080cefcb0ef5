"""Every problem of the suites, for every target: checked against the definition, timed side
by side with the other targets and the installed peers (``convspec._bench.engine``), then
timed alone by pytest-benchmark.  A test fails when its target gives a wrong result or raises;
no time is asserted (pytest-benchmark's ``--benchmark-compare-fail`` is the user's choice)."""

import pytest

from convspec._bench.engine import wait_until_idle


def test_problem(bench_run, problem, target, benchmark):
    suite, line = problem
    records = {r["method"]: r for r in bench_run.time(suite, line)}
    mine = records[target]
    if mine["status"] in ("wrong", "error"):
        pytest.fail(f"{line}: {target}: {mine['status']}: {mine['why']}", pytrace=False)
    if mine["status"] != "timed":
        pytest.skip(f"{target}: {mine['why']}")
    fn, args, kwargs = bench_run.call(line, target)
    benchmark.group = f"{suite}: {line}"
    benchmark.extra_info.update(bench_run.summary(line, target))
    wait_until_idle()  # the side-by-side run's library threads stop spinning first
    benchmark.pedantic(fn, args=args, kwargs=kwargs, rounds=max(4, bench_run.options["rounds"]),
                       iterations=bench_run.repeats(line, target), warmup_rounds=0)
