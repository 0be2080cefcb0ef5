"""The benchmark suites as pytest-benchmark tests: one test per problem of
``convspec._bench.suites`` and target, over the engine of ``convspec bench``
(``convspec._bench.engine.Run``; nothing of it lives here).

The first test of a problem runs every target and installed peer side by side (each result
checked against the definition, then A-B-B-A blocks); each test then times its target's checked
call through pytest-benchmark's ``benchmark`` fixture (pedantic mode: the engine's rounds, as
many calls per round as fit in its budget) and stores the side-by-side medians and ratios,
against the fastest peer too, in ``extra_info``.  So ``--benchmark-autosave``,
``--benchmark-compare``, ``--benchmark-compare-fail``, ``--benchmark-json`` and
``--benchmark-histogram`` work as pytest-benchmark users expect, and ``--bench-out`` writes
convspec's own side-by-side report.

    pytest benchmarks [--full] [--suite NAME ...] [--bench-out DIR] [--bench-targets T ...]
                      [--bench-peers P ...] [--threads N] [pytest-benchmark's options]

Thread counts are the environment's (``scripts/bench.sh`` sets them); ``--threads`` records them.
"""

import importlib.util
import sys

import pytest

from convspec._bench.engine import PEERS, Run, target_name
from convspec._bench.suites import SUITES, suite_lines

#: The bundled backends timed by default.
TARGETS = ["auto", "im2col", "winograd", "fft", "numba", "naive"]
#: Multiply-adds past which a bundled backend of plain loops is not timed (beside the peers' limits).
LIMITS = {"scipy.direct": 6e7, "scipy.ndimage": 1.5e9, "numpy": 3e9, "naive": 2e7, "numba": 3e9}


def pytest_addoption(parser):
    group = parser.getgroup("convspec bench")
    group.addoption("--full", action="store_true", help="the full suites (default: their quick versions)")
    group.addoption("--suite", action="append", choices=list(SUITES), help="only these suites (repeatable)")
    group.addoption("--bench-out", metavar="DIR", help="write bench.md, bench.json and the plots here")
    group.addoption("--bench-targets", nargs="+", default=TARGETS, help="the targets (default: the bundled backends)")
    group.addoption("--bench-peers", nargs="*", default=list(PEERS), help="the peers timed beside them")
    group.addoption("--threads", type=int, default=1, help="the thread count to record (set by the environment)")


def pytest_configure(config):
    if importlib.util.find_spec("pytest_benchmark") is None:
        raise pytest.UsageError("pytest benchmarks times through pytest-benchmark, which is not installed: "
                                "pip install 'convspec[bench]'")


def _problems(config):
    return [(suite, line) for suite in config.getoption("suite") or list(SUITES)
            for line in suite_lines(suite, quick=not config.getoption("full"))]


def pytest_generate_tests(metafunc):
    if "problem" in metafunc.fixturenames:
        cases = _problems(metafunc.config)
        metafunc.parametrize("problem", cases, ids=[f"{s}:{line}" for s, line in cases])
    if "target" in metafunc.fixturenames:
        names = [target_name(t) for t in metafunc.config.getoption("bench_targets")]
        metafunc.parametrize("target", names, ids=names)


@pytest.fixture(scope="session")
def bench_run(request):
    config = request.config
    full = config.getoption("full")
    run = Run(config.getoption("bench_targets"), config.getoption("bench_peers"), threads=config.getoption("threads"),
              rounds=4 if full else 2, budget=0.3 if full else 0.05, limits=LIMITS, total=len(_problems(config)),
              progress=lambda line: _say(config, line))
    config._convspec_bench_run = run
    return run


def _say(config, line):
    """A progress line on the terminal, past pytest's capture."""
    with config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        print(line, file=sys.stderr, flush=True)


def pytest_sessionfinish(session):
    run = getattr(session.config, "_convspec_bench_run", None)
    out = session.config.getoption("bench_out")
    if run is not None and out:
        from convspec._bench.report import NO_PLOTS, plots_available, write

        for path in write(out, run.board()):
            print(f"wrote {path}", file=sys.stderr)
        if not plots_available():
            print(NO_PLOTS, file=sys.stderr)
