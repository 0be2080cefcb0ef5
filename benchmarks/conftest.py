"""The benchmark suites as pytest tests: one test per problem of ``convspec._bench.suites``, each
timing every bundled backend and installed peer through ``convspec._bench.engine.Run`` (the
checking, timing and report of ``convspec bench``; nothing of it lives here).

    pytest benchmarks [--full] [--suite NAME ...] [--bench-out DIR] [--bench-targets T ...]
                      [--bench-peers P ...] [--threads N]

Thread counts are the environment's (``scripts/bench.sh`` sets them); ``--threads`` records them.
"""

import sys

import pytest

from convspec._bench.engine import PEERS, Run
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


def _problems(config):
    return [(suite, line) for suite in config.getoption("suite") or list(SUITES)
            for line in suite_lines(suite, quick=not config.getoption("full"))]


def pytest_generate_tests(metafunc):
    if "problem" in metafunc.fixturenames:
        cases = _problems(metafunc.config)
        metafunc.parametrize("problem", cases, ids=[f"{s}:{line}" for s, line in cases])


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
        from convspec._bench.report import write

        for path in write(out, run.board()):
            print(f"wrote {path}", file=sys.stderr)
