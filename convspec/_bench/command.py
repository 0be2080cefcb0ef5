"""``convspec bench TARGET... [--suite NAME...] [--problems FILE] [--peers NAME...] [--threads N]
[--out DIR] [--compare OLD.json] [--quick]`` (docs/results/performance.md).

Bad input is one clear line and exit 2, found before anything is timed or written: an unknown
suite or peer, a malformed problems file (its line and field named), a target that loads with
none of the functions a suite needs.  The BLAS, OpenMP and Numba thread counts must be set
before NumPy starts, so the command runs itself again in a child process with them set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
CHILD = "CONVSPEC_BENCH_CHILD"


def _fail(message: str) -> int:
    print(f"convspec bench: {message}", file=sys.stderr)
    return 2


def run(args) -> int:
    from convspec._bench.engine import PEERS
    from convspec._bench.problems import ProblemError, parse, read
    from convspec._bench.suites import SUITES, suite_lines

    if args.threads < 1:
        return _fail(f"--threads={args.threads}, but should be a positive number of threads")
    unknown = [s for s in args.suite or [] if s not in SUITES]
    if unknown:
        return _fail(f"suite={unknown[0]!r}, but should be one of {', '.join(SUITES)}")
    bad_peers = [p for p in args.peers or [] if p not in PEERS]
    if bad_peers:
        return _fail(f"peer={bad_peers[0]!r}, but should be one of {', '.join(PEERS)}")
    if args.compare and not os.path.isfile(args.compare):
        return _fail(f"--compare {args.compare!r} does not exist (a bench.json of an earlier run)")
    suites = {}
    try:
        for name in args.suite or ([] if args.problems else list(SUITES)):
            suites[name] = [parse(line) for line in suite_lines(name, args.quick)]
        if args.problems:
            suites[os.path.basename(args.problems)] = read(args.problems)
    except (ProblemError, OSError) as e:
        return _fail(str(e))
    if os.environ.get(CHILD) != "1":  # thread counts must be set before NumPy loads its BLAS
        env = {**os.environ, CHILD: "1", **{v: str(args.threads) for v in THREAD_VARIABLES}}
        return subprocess.call([sys.executable, "-m", "convspec", "bench", *args.argv[1:]], env=env)
    return _measure(args, suites)


def _measure(args, suites) -> int:
    from convspec._engine.backend import LoadError
    from convspec._bench.engine import PEERS, bench, board, environment, load_peers, load_targets
    from convspec._bench.report import write

    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        pass
    try:
        targets = load_targets(args.targets)
    except LoadError as e:
        return _fail(str(e))
    for name, backend in targets.items():
        needed = {p.op for problems in suites.values() for p in problems}
        if not needed & set(backend.ops):
            return _fail(f"target {name!r} has none of the functions the problems need ({', '.join(sorted(needed))}); "
                         f"it has {', '.join(backend.ops) or 'none'}")
    peers, missing = load_peers(args.peers if args.peers is not None else list(PEERS), args.targets, targets)
    methods = {**targets, **peers}
    say = (lambda line: print(line, file=sys.stderr, flush=True)) if not args.quiet else None
    env = environment(args.threads)
    records = []
    for suite, problems in suites.items():
        if say:
            say(f"suite {suite}: {len(problems)} problems x {len(methods)} methods")
        records += bench(methods, problems, rounds=2 if args.quick else 4, budget=0.1 if args.quick else 0.3,
                         progress=say)
    run_board = board(env, targets, peers, suites, records, missing)
    compare = None
    if args.compare:
        with open(args.compare) as f:
            compare = json.load(f)
    from convspec._bench.report import NO_PLOTS, plots_available

    for path in write(args.out, run_board, compare):
        print(f"wrote {path}")
    if not plots_available():
        print(f"convspec bench: {NO_PLOTS}", file=sys.stderr)
    wrong = [r for r in records if r["status"] in ("wrong", "error") and r["method"] in targets]
    return 1 if wrong else 0
