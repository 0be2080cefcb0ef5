"""Timing any implementation against its peers (docs/results/performance.md): every result is checked
against the definition before it is timed (fast and wrong is worthless: a wrong result is
reported, not timed); each method is timed in its own blocks, in A-B-B-A order across the
methods, after a first call that is reported apart (compilation, plans, page faults).

The oracle is ``convspec.reference`` in float64 when the problem is small enough for it
(:data:`REFERENCE_MACS`); above that, convspec's own ``im2col`` (layers, pools) or ``fft``
(signals) in float64, and the report says which one judged.
"""

from __future__ import annotations

import math
import os
import platform
import time
import zlib

import numpy as np

from convspec._contract import accuracy, reference
from convspec._engine.backend import load_backend
from convspec._engine.machine import IDLE_LIMIT, IDLE_SHARE, IDLE_WINDOW, wait_until_idle  # noqa: F401
from convspec._bench.problems import LAYER_DESCRIBED, Problem, parse

#: Largest problem (multiply-adds) the plain reference computes for the check.
REFERENCE_MACS = 2e8
#: Peers compared side by side when installed: name -> (the target to load, what it is).
PEERS = {"auto": ("auto", "convspec's auto"),
         "torch": ("convspec._bench.peers:torch", "PyTorch called natively (torch.nn.functional, autograd)"),
         "scipy": ("convspec._bench.peers:scipy", "scipy.signal.convolve, method='auto' (SciPy's own choice)"),
         "scipy.direct": ("convspec._bench.peers:scipy_direct", "scipy.signal.convolve, method='direct'"),
         "scipy.fft": ("convspec._bench.peers:scipy_fft", "scipy.signal.convolve, method='fft'"),
         "scipy.oaconvolve": ("convspec._bench.peers:scipy_oaconvolve", "scipy.signal.oaconvolve (overlap-add)"),
         "scipy.ndimage": ("convspec._bench.peers:scipy_ndimage", "scipy.ndimage.convolve (direct)"),
         "numpy": ("convspec._bench.peers:numpy", "numpy.convolve (1-D)"),
         "onnxruntime": ("convspec._bench.peers:onnxruntime", "ONNX Runtime (CPU), a Conv with constant weights"),
         "openvino": ("convspec._bench.peers:openvino", "OpenVINO (CPU, f32), a Conv with constant weights"),
         "jax": ("convspec._bench.peers:jax", "JAX/XLA on CPU, jit of lax.conv_general_dilated")}
#: The peers a user would pick instead of ``auto`` for layers on a CPU: each report gives the
#: ratio against the fastest of them that ran, per problem and per family.
CPU_PEERS = ("torch", "onnxruntime", "openvino", "jax")
#: Multiply-adds above which a peer whose cost grows with the kernel is not run (it would take
#: minutes); the record says so.
DIRECT_LIMITS = {"scipy.direct": 6e7, "scipy.ndimage": 1.5e9, "numpy": 3e9}


def peer_available(name: str) -> str | None:
    """Why the peer ``name`` cannot run here (``None``: it can)."""
    import importlib.util

    packages = ["scipy"] if name.startswith("scipy") else {"torch": ["torch"], "onnxruntime": ["onnxruntime", "onnx"],
                                                           "openvino": ["openvino", "onnx"], "jax": ["jax"]}.get(name, [])
    for package in packages:
        if importlib.util.find_spec(package) is None:
            return f"{package} is not installed"
    return None


def target_name(spec: str) -> str:
    """The name a TARGET is reported by: a file's stem, anything else as given."""
    from convspec._engine.backend import split_target, target_kind

    return os.path.splitext(os.path.basename(split_target(spec)[0]))[0] if target_kind(spec) == "file" else spec


def load_targets(specs) -> dict:
    """Name (:func:`target_name`) -> loaded backend for each TARGET as ``check`` takes it;
    raises :class:`convspec._engine.backend.LoadError`."""
    return {target_name(t): load_backend(t) for t in specs}


def load_peers(wanted, target_specs=(), targets=()) -> tuple[dict, dict]:
    """``(name -> loaded peer, name -> why it is missing)`` for the peers ``wanted`` (names of
    :data:`PEERS`), leaving out those that are already among the targets."""
    peers, missing = {}, {}
    for p in wanted:
        why = peer_available(p)
        if why:
            missing[p] = why
        elif PEERS[p][0] not in target_specs and p not in targets:
            peers[p] = load_backend(PEERS[p][0])
    return peers, missing


def oracle(problem: Problem, args):
    """``(expected float64 result, who judged)``."""
    kw = problem.kwargs
    if problem.macs <= REFERENCE_MACS or problem.op in ("max_pool", "adaptive_max_pool", "adaptive_avg_pool"):
        return np.asarray(getattr(reference, problem.op)(*args, **kw), dtype=np.float64), "convspec.reference (float64)"
    wide = tuple(a.astype(np.float64) for a in args)
    name = "fft" if problem.op in ("correlate", "convolve") else "im2col"
    return np.asarray(getattr(load_backend(name), problem.op)(*wide, **kw)), f"convspec {name} in float64"


def check_result(y, expected, problem, args):
    """``None`` if ``y`` agrees with the oracle within the normwise (FFT-class) bound, else why."""
    y = np.asarray(y)
    if y.shape != expected.shape:
        return f"shape {y.shape}, but should be {expected.shape}"
    if problem.op in ("max_pool", "adaptive_max_pool"):
        bound = 0.0
    else:
        bound = accuracy.error_bound("fft", problem.op, args, problem.kwargs, args[0].dtype) * 2 + \
            4 * accuracy.unit_roundoff(np.float32) * np.abs(expected)
    err = np.abs(y.astype(np.float64) - expected)
    bad = ~(err <= bound)
    if np.any(bad):
        i = np.unravel_index(int(np.argmax(np.where(bad, err, -1))), bad.shape)
        return f"[{', '.join(map(str, i))}]={float(y[i])!r}, but should be {float(expected[i])!r} ({int(bad.sum())} of " \
               f"{bad.size} outputs differ)"
    return None


def gemm_rate(threads: int, size: int = 1024) -> float:
    """float32 GEMM GFLOP/s measured now (the machine's physical limit for the layers)."""
    a = np.random.default_rng(0).standard_normal((size, size)).astype(np.float32)
    a @ a
    times = []
    for _ in range(5):
        start = time.perf_counter()
        a @ a
        times.append(time.perf_counter() - start)
    return 2.0 * size ** 3 / float(np.median(times)) / 1e9


def calls_per_block(budget: float, guess: float) -> int:
    """As many calls as fit in about ``budget`` seconds at ``guess`` seconds each (1 to 50)."""
    return max(1, min(50, int(budget / max(guess, 1e-6))))


def _time_block(fn, args, kwargs, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return times


def measure(methods: dict, problem: Problem, args, expected, judge: str, *, rounds=4, budget=0.3,
            limits=None) -> list[dict]:
    """Time every method (name -> loaded backend) that has the function on one problem.

    One first call per method, checked against ``expected`` (reported apart: compilation,
    plans, first touch); then ``rounds`` blocks per method in A-B-B-A order, each of as many
    calls as fit in about ``budget`` seconds (at least one), each started once the process's
    other threads are idle (:func:`wait_until_idle`).  ``limits`` (name -> multiply-adds,
    default :data:`DIRECT_LIMITS`) skips a method past its size.  Returns one record per method:
    ``status`` is ``timed`` (with median, quartiles, GFLOP/s), ``skipped``, ``wrong`` or ``error``."""
    limits = DIRECT_LIMITS if limits is None else limits
    out, live = [], {}
    for name, backend in methods.items():
        record = {"problem": problem.line, "method": name, "flops": problem.flops(), "judge": judge}
        limit = limits.get(name, math.inf)
        why = _unsupported(backend, problem, args) or (
            f"{problem.macs:.2g} multiply-adds is past {name}'s limit of {limit:.2g} (a direct method)"
            if problem.macs > limit else None)
        if why:
            out.append({**record, "status": "skipped", "why": why})
            continue
        fn = getattr(backend, problem.op)
        plans = getattr(backend.obj, "plans", None)  # a dispatcher's record of its choices (auto's)
        plans = plans if callable(plans) else dict
        before = plans()
        try:
            start = time.perf_counter()
            y = fn(*args, **problem.kwargs)
            first = time.perf_counter() - start
        except Exception as e:  # noqa: BLE001 - the method's own failure is the record
            out.append({**record, "status": "error", "why": f"{type(e).__name__}: {str(e)[:200]}"})
            continue
        chosen = sorted({str(v) for k, v in plans().items() if before.get(k) != v})
        if chosen:
            record["chose"] = ", ".join(chosen)
        wrong = check_result(y, expected, problem, args)
        if wrong:
            out.append({**record, "status": "wrong", "why": wrong, "first_call": first})
            continue
        live[name] = {**record, "status": "timed", "first_call": first, "times": [], "fn": fn}
    order = list(live)
    for r in range(rounds):
        for name in (order if r % 2 == 0 else order[::-1]):  # A-B-B-A
            entry = live[name]
            guess = min(entry["times"]) if entry["times"] else entry["first_call"]
            wait_until_idle()  # the previous block's library threads stop spinning first
            entry["times"] += _time_block(entry["fn"], args, problem.kwargs, calls_per_block(budget, guess))
    for entry in live.values():
        t = np.asarray(entry.pop("fn") and entry["times"])
        entry.update(median=float(np.median(t)), q1=float(np.percentile(t, 25)), q3=float(np.percentile(t, 75)),
                     calls=len(t), gflops=problem.flops() / float(np.median(t)) / 1e9)
        out.append(entry)
    return out


def problem_arrays(problem: Problem, seed: int = 0):
    """The arguments of ``problem``, drawn from a generator seeded by ``seed`` and the problem's
    line: a problem gets the same data in every run and front end, whichever others run with it."""
    return problem.arrays(np.random.default_rng([seed, zlib.crc32(problem.line.encode())]))


def measure_problem(methods: dict, problem: Problem, *, seed=0, **options) -> list[dict]:
    """:func:`measure` on the problem's arrays (:func:`problem_arrays`) against its oracle."""
    args = problem_arrays(problem, seed)
    return measure(methods, problem, args, *oracle(problem, args), **options)


def bench(methods: dict, problems: list[Problem], *, rounds=4, budget=0.3, seed=0, limits=None,
          progress=None) -> list[dict]:
    """:func:`measure_problem` on every problem; ``progress`` gets a line with the time left."""
    out = []
    started = time.monotonic()
    for number, problem in enumerate(problems, 1):
        out += measure_problem(methods, problem, seed=seed, rounds=rounds, budget=budget, limits=limits)
        if progress:
            progress(_progress_line(number, len(problems), problem.line, started))
    return out


def _progress_line(number: int, total: int, line: str, started: float) -> str:
    elapsed = time.monotonic() - started
    return f"[{number}/{total}] {line}  {elapsed:.0f} s elapsed, ~{elapsed / number * (total - number):.0f} s left"


class Run:
    """A run assembled one problem at a time by a front end that drives the problems itself
    (the pytest suites in ``benchmarks/``), with the checking, timing and record of ``convspec
    bench``: ``time(suite, line)`` measures one problem, ``board()`` is what the report renders."""

    def __init__(self, targets, peers=(), *, threads=1, rounds=4, budget=0.3, limits=None, seed=0, total=None,
                 progress=None):
        self.targets = load_targets(targets)
        self.peers, self.missing = load_peers(peers, targets, self.targets)
        self.methods = {**self.targets, **self.peers}
        self.options = {"rounds": rounds, "budget": budget, "limits": limits}
        self.seed, self.total, self.progress = seed, total, progress
        self.env = environment(threads)
        self.suites: dict[str, list] = {}
        self.records: list[dict] = []
        self.measured: dict[str, tuple] = {}  # line -> (problem, arrays, records)
        self.started = time.monotonic()

    def time(self, suite: str, line: str) -> list[dict]:
        """Every method on one problem, side by side (:func:`measure`); measured once per run,
        the records kept for the problem's other tests."""
        if line in self.measured:
            problem, _, records = self.measured[line]
            if problem not in self.suites.setdefault(suite, []):
                self.suites[suite].append(problem)
            return records
        problem = parse(line)
        args = problem_arrays(problem, self.seed)
        records = measure(self.methods, problem, args, *oracle(problem, args), **self.options)
        self.measured[line] = (problem, args, records)
        self.suites.setdefault(suite, []).append(problem)
        self.records += records
        if self.progress:
            done = sum(map(len, self.suites.values()))
            self.progress(_progress_line(done, max(self.total or done, done), problem.line, self.started))
        return records

    def call(self, line: str, method: str) -> tuple:
        """``(function, args, kwargs)``: the call :meth:`time` checked and timed for ``method``
        on the problem ``line``, with the same arrays (a front end times it again its own way)."""
        problem, args, _ = self.measured[line]
        return getattr(self.methods[method], problem.op), args, problem.kwargs

    def summary(self, line: str, method: str) -> dict:
        """What the side-by-side run found for ``method`` on ``line``: every timed method's median
        (ms), each one's time over ``method``'s, and the fastest peer's (above 1: ``method`` faster)."""
        problem, _, records = self.measured[line]
        timed = {r["method"]: r for r in records if r["status"] == "timed"}
        mine = timed[method]
        out = {"problem": line, "gflop": problem.flops() / 1e9, "checked_against": mine["judge"],
               "first_call_ms": mine["first_call"] * 1e3,
               "side_by_side_ms": {m: r["median"] * 1e3 for m, r in timed.items()},
               "ratio": {m: r["median"] / mine["median"] for m, r in timed.items() if m != method}}
        peers = [m for m in timed if m in self.peers and m != method]
        if peers:
            best = min(peers, key=lambda m: timed[m]["median"])
            out.update(best_peer=best, best_peer_ratio=timed[best]["median"] / mine["median"])
        return out

    def repeats(self, line: str, method: str) -> int:
        """Calls per timed block for ``method`` on ``line``: as many as fit in the run's budget."""
        _, _, records = self.measured[line]
        median = next(r["median"] for r in records if r["method"] == method and r["status"] == "timed")
        return calls_per_block(self.options["budget"], median)

    def board(self) -> dict:
        return board(self.env, self.targets, self.peers, self.suites, self.records, self.missing)


def board(env: dict, targets: dict, peers: dict, suites: dict, records: list, missing=None) -> dict:
    """The record of a run that :func:`convspec._bench.report.write` renders: the environment,
    the targets and peers (name -> loaded backend) with their accuracy classes, the suites
    (name -> problems) and the records of :func:`measure`."""
    methods = {**targets, **peers}
    return {"environment": env, "targets": list(targets), "peers": list(peers), "missing_peers": missing or {},
            "accuracy": {name: backend.capabilities.accuracy for name, backend in methods.items()},
            "suites": {s: [p.line for p in ps] for s, ps in suites.items()}, "records": records}


def _unsupported(backend, problem, args) -> str | None:
    if problem.op not in backend.ops:
        return f"no {problem.op}"
    caps = backend.capabilities
    if "float32" not in caps.dtypes_for(problem.op):
        return "float32 not declared"
    nd = args[0].ndim - (2 if problem.op in LAYER_DESCRIBED or problem.op.endswith("_pool") else 0)
    if nd not in caps.ndims_for(problem.op):
        return f"{nd}-D not declared"
    from convspec._contract.restrictions import excluded

    declined = excluded(caps.restrictions_for(problem.op), problem.op, args, problem.kwargs)
    return f"declared {declined}" if declined else None


#: Settings that move timings: thread counts, the OpenBLAS kernel overrides, glibc's allocator.
SETTINGS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_CORETYPE",
            "OPENBLAS_L2_SIZE", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def machine_environment() -> dict:
    """CPU, Python and library versions, the settings that move timings, and the BLAS (and
    OpenMP) libraries loaded, with the kernel each selected (threadpoolctl, when installed)."""
    versions = {}
    for name in ("numpy", "scipy", "numba", "torch", "threadpoolctl"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            pass
    try:
        from threadpoolctl import threadpool_info

        blas = [{k: info.get(k) for k in ("user_api", "internal_api", "version", "architecture", "num_threads",
                                          "filepath")} for info in threadpool_info()]
    except ImportError:
        blas = []
    from convspec._engine import machine

    return {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "cpu": machine.cpu()["model"], "isa": machine.cpu()["isa"],
            "versions": versions, "environment": {k: os.environ.get(k) for k in SETTINGS}, "blas": blas}


def blas_summary(env: dict) -> str:
    """``'openblas 0.3.30 (SkylakeX), 1 thread'``-like text for the BLAS of an environment."""
    libs = [b for b in env.get("blas") or [] if isinstance(b, dict) and b.get("user_api") == "blas"]
    return "; ".join(f"{b['internal_api']} {b['version']} ({b.get('architecture') or '?'}), "
                     f"{b['num_threads']} thread(s)" for b in libs) or "unknown (install threadpoolctl to record it)"


def hold_to_cores(threads: int) -> list | None:
    """Keep every thread of this process, and every thread it starts later, on ``threads`` of
    the CPUs it may run on (the lowest numbered) where that is fewer than all of them, so that
    a library whose thread pool does not follow the thread settings still computes on that many
    cores: XLA's CPU client (JAX 0.10) sizes its pool by the CPUs it may run on, whatever
    ``OMP_NUM_THREADS`` and its flags say; asked for one thread, it ran a 3x3 layer on 8 x 128
    channels of 28x28 with 1.8 seconds of CPU time per second.  The CPUs held to, or None
    (all of them, or no affinity on this system)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    if threads >= len(allowed):
        return None
    held = set(allowed[:threads])
    try:
        running = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        running = [0]  # this thread only: the others keep their CPUs
    for tid in running:
        try:
            os.sched_setaffinity(tid, held)
        except OSError:
            pass  # a thread that ended meanwhile
    return sorted(held)


def environment(threads: int) -> dict:
    """What the timings depend on (:func:`machine_environment`), the threads asked for (every
    thread of the process held to that many CPUs: :func:`hold_to_cores`) and the float32 GEMM
    rate now."""
    from convspec import __version__

    hold_to_cores(threads)
    info = {**machine_environment(), "convspec": __version__, "numpy": np.__version__, "threads": threads,
            "gemm_gflops": round(gemm_rate(threads), 1)}
    if hasattr(os, "sched_getaffinity") and len(os.sched_getaffinity(0)) < (os.cpu_count() or 0):
        info["held_to_cpus"] = sorted(os.sched_getaffinity(0))  # by this run, or by whoever started it
    info["blas"] = machine_environment()["blas"]  # after the GEMM: the BLAS is loaded and threaded now
    for name in ("torch", "scipy"):
        if name in info["versions"]:
            info[name] = info["versions"][name]
    return info


def geometric_mean(values) -> float:
    values = [v for v in values if v > 0 and math.isfinite(v)]
    return float(math.exp(sum(math.log(v) for v in values) / len(values))) if values else float("nan")
