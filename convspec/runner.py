"""Running properties against backends: the one runner behind the CLI and pytest.

:func:`run_property` runs one property on one backend in this process with hypothesis and
returns a :class:`Result` (with the minimal counterexample and its reproduction).
:func:`check` runs many properties on many backends, each backend in a worker process
watched by a time limit, so a backend that hangs or crashes the interpreter is reported
per property and the run goes on.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import time
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import wait

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky, Unsatisfiable

from .backend import load_backend
from .property import BackendError, BackendTimeout, Context, Property, PropertyFailure
from .repro import reproduction


@dataclass(frozen=True)
class Profile:
    """How hard to look: examples per property, and the time limits."""

    name: str
    examples: int
    call_timeout: float  # seconds for one backend call
    property_timeout: float  # seconds for one property (the watchdog of :func:`check`)


PROFILES = {
    "quick": Profile("quick", 20, 30, 300),
    "default": Profile("default", 60, 60, 600),
    "thorough": Profile("thorough", 250, 120, 3600),
}


@dataclass
class Result:
    backend: str
    property: str
    concepts: list
    status: str  # passed | failed | skipped | error
    message: str = ""
    counterexample: dict | None = None
    seconds: float = 0.0
    examples: int = 0

    def to_json(self) -> dict:
        return asdict(self)


def profile_named(name) -> Profile:
    if isinstance(name, Profile):
        return name
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"profile={name!r}, but should be one of {sorted(PROFILES)}") from None


def _notes(e) -> str:
    return "\n".join(n for n in getattr(e, "__notes__", []) if n.startswith("Draw"))


def run_property(prop: Property, backend, *, profile="default", seed=None, fixed=None, examples=None) -> Result:
    """Run ``prop`` against ``backend`` (a :class:`~convspec.backend.Backend` or a TARGET).

    ``fixed`` pins discrete axes (``{"dtype": "float32", ...}``), as the pytest plugin does;
    the others are drawn.  ``examples`` overrides the profile's count.
    """
    backend = load_backend(backend)
    profile = profile_named(profile)
    base = Result(backend.name, prop.name, list(prop.concepts), "skipped")
    reason = prop.skip_reason(backend)
    if reason is None and fixed:
        allowed = prop.allowed(backend)
        bad = {a: v for a, v in fixed.items() if a in allowed and v not in allowed[a]}
        if bad:
            reason = "backend does not declare " + ", ".join(f"{a}={v!r}" for a, v in bad.items())
    if reason:
        base.message = reason
        return base
    state = {"ctx": None, "count": 0}

    def body(data):
        ctx = Context(prop, backend, data, fixed, profile.call_timeout)
        state["ctx"] = ctx
        state["count"] += 1
        prop.fn(ctx)

    test = given(st.data())(body)
    test = settings(
        max_examples=examples or profile.examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        verbosity=Verbosity.normal,
        print_blob=False,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
    )(test)
    test = hypothesis.seed(seed if seed is not None else random.getrandbits(32))(test)
    start = time.perf_counter()
    status, message, error = "passed", "", None
    try:
        test()
    except PropertyFailure as e:
        status, message, error = "failed", str(e), e
    except (BackendError, BackendTimeout) as e:
        status, message, error = "error", str(e), e
    except Flaky as e:
        inner = [x for x in getattr(e, "exceptions", []) if isinstance(x, (PropertyFailure, BackendError))]
        status = "failed"
        message = (str(inner[0]) if inner else str(e)) + " [not reproducible: the result depends on earlier calls]"
        error = e
    except Unsatisfiable:
        status, message = "error", "no non-degenerate example could be drawn (every output was zero)"
    except Exception as e:  # the property itself broke: report, never crash the run
        status, message, error = "error", f"property raised {type(e).__name__}: {e}", e
    result = Result(backend.name, prop.name, list(prop.concepts), status, message,
                    seconds=round(time.perf_counter() - start, 3), examples=state["count"])
    if error is not None and state["ctx"] is not None:
        ctx = state["ctx"]
        result.counterexample = {
            "draws": _notes(error),
            "reproduction": reproduction(backend.target, prop.name, ctx.calls, message) if ctx.calls else "",
        }
    return result


# --------------------------------------------------------------------- many, isolated


def _worker(target, names, profile, seed, conn):
    from .catalogue import get

    try:
        backend = load_backend(target)
    except Exception as e:
        conn.send(("load-error", str(e)))
        return
    for name in names:
        conn.send(("start", name))
        result = run_property(get(name), backend, profile=profile, seed=seed)
        conn.send(("result", result.to_json()))
    conn.send(("done", None))


@dataclass
class _Session:
    target: str
    name: str
    pending: list
    results: list = field(default_factory=list)
    process: object = None
    conn: object = None
    current: str | None = None
    started: float = 0.0


def check(targets, properties, *, profile="default", seed=None, jobs=1, progress=None):
    """Run ``properties`` on every TARGET, each backend in its own worker process.

    Returns the results in (target, property) order.  A property whose run exceeds the
    profile's ``property_timeout``, or that kills the worker, is reported as ``error`` and
    the worker is restarted for the remaining properties.  ``progress(result)`` is called
    as results arrive.
    """
    profile = profile_named(profile)
    ctx = mp.get_context("spawn")
    by_name = {p.name: p for p in properties}
    sessions = [_Session(t, load_backend(t).name, [p.name for p in properties]) for t in targets]
    waiting, running = list(sessions), []

    def launch(s):
        parent, child = ctx.Pipe(duplex=False)
        s.process = ctx.Process(target=_worker, args=(s.target, list(s.pending), profile, seed, child), daemon=True)
        s.process.start()
        child.close()
        s.conn, s.current, s.started = parent, None, time.monotonic()

    def record(s, result):
        s.results.append(result)
        if s.current in s.pending:
            s.pending.remove(s.current)
        s.current = None
        if progress:
            progress(result)

    def fail_current(s, message):
        p = by_name[s.current]
        record(s, Result(s.name, p.name, list(p.concepts), "error", message))
        s.process.kill()
        s.process.join()
        s.conn.close()
        if s.pending:
            launch(s)
        else:
            running.remove(s)

    while waiting or running:
        while waiting and len(running) < max(1, jobs):
            s = waiting.pop(0)
            launch(s)
            running.append(s)
        ready = wait([s.conn for s in running], timeout=1.0)
        for s in list(running):
            if s.conn in ready:
                try:
                    kind, payload = s.conn.recv()
                except (EOFError, OSError):
                    s.process.join(5)
                    code = s.process.exitcode
                    if s.current is None and s.pending:
                        s.current = s.pending[0]
                    if s.current is None:
                        running.remove(s)
                        continue
                    fail_current(s, f"the backend crashed the worker process (exit code {code}) during this property")
                    continue
                if kind == "start":
                    s.current, s.started = payload, time.monotonic()
                elif kind == "result":
                    record(s, Result(**payload))
                elif kind == "load-error":
                    for name in list(s.pending):
                        s.current = name
                        p = by_name[name]
                        record(s, Result(s.name, name, list(p.concepts), "error", f"backend failed to load in the worker: {payload}"))
                    running.remove(s)
                elif kind == "done":
                    s.process.join()
                    s.conn.close()
                    running.remove(s)
            elif s.current is not None and time.monotonic() - s.started > profile.property_timeout:
                fail_current(s, f"the property did not finish within {profile.property_timeout:.0f} s "
                                "(a call hung, or the backend is far too slow)")
    order = {t: i for i, t in enumerate(targets)}
    results = []
    for s in sorted(sessions, key=lambda s: order[s.target]):
        got = {r.property: r for r in s.results}
        results.extend(got[p.name] for p in properties if p.name in got)
    return results


def default_jobs(n_targets: int) -> int:
    return max(1, min(n_targets, os.cpu_count() or 1, 2))

