"""Running properties against backends: the one runner behind the CLI and pytest.

:func:`run_property` runs one property on one backend with hypothesis and returns a
:class:`Result` (with the minimal counterexample and its reproduction).  The backend is
either loaded in this process (the pytest route) or a
:class:`~convspec._engine.remote.RemoteBackend` whose code runs in an executor process.

The command line runs it in judge processes (:mod:`convspec._engine.judges`).
"""

from __future__ import annotations

import collections
import hashlib
import os
import random
import time
from dataclasses import asdict, dataclass

import hypothesis
import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase
from hypothesis.errors import DidNotReproduce, Flaky, Unsatisfiable

from convspec._contract import agreement
from convspec._engine.backend import Backend, load_backend
from convspec._catalogue.property import (BackendCrash, BackendError, BackendTimeout, Call, Context, Declined, Property,
                                          PropertyFailure, Rejected)
from convspec._engine import examples as recorded
from convspec._engine.examples import ReplayMismatch
from convspec._catalogue.strategies import StableNotReady, stable
from convspec._engine.reproduction import reproduction


@dataclass(frozen=True)
class Profile:
    """How hard to look: examples per property, and the time limits."""

    name: str
    examples: int
    call_timeout: float  # seconds for one backend call
    property_timeout: float  # seconds for one property (no call starts after it; a silent judge is stopped)
    large_examples: int = 2  # examples of each large-size property (convspec/catalogue/large.py)
    shapes: int = 0  # > 0: every example reuses one of this many shapes per property (values still vary)
    first_call_timeout: float | None = None  # the limit of a call with a shape the backend has not seen yet
    # the sustained-calls properties: at least this many calls over at least this many seconds,
    # in one example (state that goes wrong after hundreds of calls or tens of seconds shows)
    sustained_calls: int = 40
    sustained_seconds: float = 0.0


PROFILES = {
    "quick": Profile("quick", 20, 30, 300, 1),
    "default": Profile("default", 60, 60, 600, 2, sustained_calls=320, sustained_seconds=21.0),
    "thorough": Profile("thorough", 250, 120, 3600, 6, sustained_calls=1000, sustained_seconds=60.0),
    # for libraries that compile per shape (JAX/XLA, tinygrad, ONNX Runtime sessions): three
    # shapes per property and drawn axes, so compilation happens a few times, not per example;
    # a call with a new shape may take 300 s (compiling), a call with a known one 60 s (hanging)
    "jit": Profile("jit", 60, 60, 900, 1, shapes=3, first_call_timeout=300),
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
    examples: int = 0  # examples tried up to the first failure (all of them when it passed)
    shrink_steps: int = 0  # examples tried after it, while shrinking the counterexample
    replayed: int = 0  # remembered counterexamples tried first
    declined: int = 0  # examples the backend declined (convspec.Unsupported): not evidence
    worst_ratio: float | None = None  # accuracy properties: the largest error / bound seen (1 is the bound)

    def to_json(self) -> dict:
        return _plain(asdict(self))


def _plain(value):
    """``value`` with NumPy scalars (a float32 scale in a call's keywords) as Python numbers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value.item() if isinstance(value, np.generic) else value


def profile_named(name) -> Profile:
    if isinstance(name, Profile):
        return name
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"profile={name!r}, but should be one of {sorted(PROFILES)}") from None


NOT_REPRODUCIBLE = ("[not reproducible: run again, the example passed; the answers depend on earlier calls or vary "
                    "from run to run]")

#: Runs of a reproduction's example when the failure did not reproduce at once (answers vary).
RETRIES = 50

#: Failures per backend whose example is replayed in a fresh executor, to find the earlier
#: calls it depends on (each costs at least one executor start).
EXPLAIN = 5


def default_examples_dir() -> str:
    """Where remembered counterexamples live unless told otherwise: the user's cache, one
    folder per project folder (the current directory), so nothing is written beside the
    user's files.  ``CONVSPEC_EXAMPLES_DB`` overrides it (``off`` turns it off)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    project = hashlib.sha1(os.path.realpath(os.getcwd()).encode()).hexdigest()[:16]
    return os.path.join(cache, "convspec", "examples", project)


def examples_database(where=None) -> str | None:
    """The folder of remembered counterexamples: ``where`` (a path), ``None`` for the default
    (:func:`default_examples_dir`, or ``$CONVSPEC_EXAMPLES_DB``), ``"off"`` for none."""
    where = where if where is not None else os.environ.get("CONVSPEC_EXAMPLES_DB") or default_examples_dir()
    return None if str(where).lower() in ("off", "none", "") else os.path.abspath(where)


class _Remembering(ExampleDatabase):
    """The directory database of hypothesis (safe for concurrent runs: one file per example),
    its keys prefixed by ``prefix`` (one per backend, property and pinned axes: every property
    runs the same test body, whose key alone would be shared), counting the remembered
    failing examples it hands back for replay."""

    def __init__(self, path, prefix: bytes):
        super().__init__()
        self.inner = DirectoryBasedExampleDatabase(path)
        self.prefix = hashlib.sha1(prefix).hexdigest()[:16].encode() + b"."
        self.seen: set = set()

    @property
    def replayed(self) -> int:
        return len(self.seen)

    def fetch(self, key):
        for value in self.inner.fetch(self.prefix + key):
            if not key.endswith((b".secondary", b".pareto")):
                self.seen.add(value)
            yield value

    def save(self, key, value):
        self.inner.save(self.prefix + key, value)

    def delete(self, key, value):
        self.inner.delete(self.prefix + key, value)

    def move(self, src, dest, value):
        self.inner.move(self.prefix + src, self.prefix + dest, value)


def _call_json(c: Call) -> dict:
    """One recorded call as plain data: the arrays by dtype and shape, the keywords by value."""
    def arr(a):
        return {"dtype": a.dtype.name, "shape": list(a.shape)}

    return {"op": c.op, "args": [arr(a) for a in c.args],
            "kwargs": {k: arr(v) if isinstance(v, np.ndarray) else (list(v) if isinstance(v, tuple) else v)
                       for k, v in c.kwargs.items()},
            "layouts": list(c.layouts),
            "result": arr(c.result) if isinstance(c.result, np.ndarray) else None}


def _replay(run, example):
    """Run the property once on the recorded ``example``, without hypothesis.  An example the
    property would discard here (degenerate, outside its precondition) holds; one the backend
    declines is counted as declined."""
    data = recorded.ReplayData(example)
    run(data, lambda: None)
    if data.used < len(data.values):
        raise ReplayMismatch(f"the property draws {data.used} values, but the example has {len(data.values)}")


#: Health checks a property run leaves off, each for a reason:
SUPPRESSED_HEALTH_CHECKS = (
    # examples the backend declines (its declared restrictions) and examples whose outputs are all
    # zero (no evidence) are rejected on purpose and counted; a property whose every example was
    # declined is reported as skipped with the reason, not as a failed health check
    HealthCheck.filter_too_much,
    # one example calls the backend, which may be a plain Python loop or compile on first use:
    # the time is the backend's, bounded by the profile's call and property limits instead
    HealthCheck.too_slow,
)


def _hypothesis_test(body, prop, profile, examples, seed, db, replay, shrink=True):
    """``body`` as a hypothesis test with the profile's settings (``replay``: a 0.1.0 blob)."""
    test = given(st.data())(body)
    test = hypothesis.seed(seed if seed is not None else random.getrandbits(32))(test)
    if replay is not None:
        test = hypothesis.reproduce_failure(replay[0], replay[1].encode("ascii"))(test)
    count = examples or profile.examples
    return settings(
        max_examples=1 if prop.single else min(count, profile.large_examples) if prop.large else count,
        deadline=None,
        database=db,
        derandomize=False,
        suppress_health_check=SUPPRESSED_HEALTH_CHECKS,
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet if replay is not None else Verbosity.normal,
        print_blob=False,
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target) + ((Phase.shrink,) if shrink else ()),
    )(test)


def root_cause(calls, capabilities) -> tuple[int, str] | None:
    """The first recorded call whose result already disagrees with the definition, as
    ``(index, why)``: the failure's root cause, whatever the property checked next."""
    for i, c in enumerate(calls):
        cls = capabilities.accuracy_for(c.op, c.args, c.kwargs)
        why = agreement.disagreement(c.result, c.op, c.args, c.kwargs, cls, capabilities.arithmetic_for(c.op)) \
            if c.result is not None else None
        if why:
            return i, why
    return None


def run_property(prop: Property, backend, *, profile="default", seed=None, fixed=None, examples=None,
                 database=None, example=None, replay=None, catalogue=None, shrink=True) -> Result:
    """Run ``prop`` against ``backend`` (a :class:`~convspec._engine.backend.Backend` or a TARGET).

    ``fixed`` pins discrete axes (``{"dtype": "float32", ...}``), as the pytest plugin does;
    the others are drawn.  ``examples`` overrides the profile's count.  ``database`` is the
    folder of remembered counterexamples (:func:`examples_database`; ``None``: none): those of
    this backend and property are replayed first, and a failure found is remembered.
    ``example``: the drawn values of a counterexample (:mod:`convspec._engine.examples`): run
    exactly that example, without hypothesis (the property passes if it holds there).
    ``replay``: ``(hypothesis version, blob)``, the form reproductions of convspec 0.1.0 gave
    (replayed through ``hypothesis.reproduce_failure``, under that hypothesis version only).
    ``catalogue``: the pinned catalogue version (``None``: this convspec's), for a property whose
    drawing grew in a later version without changing its meaning (:meth:`Context.since`).
    ``shrink=False``: stop at the first failing example, unshrunk (whether a backend fails at all,
    when the minimal counterexample is not wanted).
    """
    if not isinstance(backend, Backend) and not getattr(backend, "isolated", False):
        backend = load_backend(backend)
    profile = profile_named(profile)
    base = Result(backend.name, prop.name, list(prop.concepts), "skipped")
    reason = prop.skip_reason(backend, catalogue)
    if reason is None and fixed:
        allowed = prop.allowed(backend, catalogue)
        bad = {a: v for a, v in fixed.items() if a in allowed and v not in allowed[a]}
        later = bad.get("dtype") in prop.axis_values.get("dtype", ()) and bad.get("dtype") not in prop.dtypes_in(catalogue)
        if later:
            reason = f"{prop.name} draws {bad['dtype']} data from catalogue {prop.widened[0]} on, not in the pinned " \
                     f"catalogue {catalogue}"
        elif bad:
            reason = "backend does not declare " + ", ".join(f"{a}={v!r}" for a, v in bad.items())
    if reason:
        base.message = reason
        return base
    if getattr(backend, "gave_up", None):
        base.status, base.message = "error", backend.gave_up
        return base
    state = {"ctx": None, "count": 0, "declined": collections.Counter(), "notes": {}}
    deadline = time.monotonic() + profile.property_timeout

    def run(data, reject, measure=None):
        ctx = Context(prop, backend, data, fixed, profile.call_timeout, deadline, shapes=profile.shapes,
                      first_call_timeout=profile.first_call_timeout, catalogue=catalogue, profile=profile)
        state["ctx"] = ctx
        state["count"] += 1
        try:
            try:
                prop.fn(ctx)
            finally:
                state["notes"].update(dict.fromkeys(ctx.notes))
                if ctx.worst is not None:
                    state["worst"] = max(state.get("worst") or 0.0, ctx.worst)
            if ctx.worst is not None and measure is not None:  # the search climbs toward the worst ratio
                measure(ctx.worst, label="error / bound")
        except Declined as d:  # outside what the backend supports: no evidence, draw another
            state["declined"][str(d)] += 1
            reject()
            return
        except Rejected:  # outside the property's precondition
            reject()
            return
        except BaseException:
            state.setdefault("first_failure", state["count"])  # the examples after it are shrinking
            raise
        if ctx.degenerate:  # checked, but no evidence: hypothesis draws another
            reject()

    def body(data):
        run(data, hypothesis.reject, hypothesis.target)

    start = time.perf_counter()
    status, message, error = "passed", "", None
    db = None
    try:
        db = _Remembering(database, f"{backend.target}\0{prop.name}\0{sorted((fixed or {}).items())}".encode()) \
            if database and example is None else None
        while True:
            try:
                if example is not None:
                    _replay(run, example)
                else:
                    _hypothesis_test(body, prop, profile, examples, seed, db, replay, shrink)()
                break
            except StableNotReady as e:  # the profile's fixed shapes, computed outside the test
                stable(e.strategy, e.count)
                state.update(ctx=None, count=0, declined=collections.Counter(), worst=None)
                state.pop("first_failure", None)
    except DidNotReproduce:
        pass  # the replayed example holds now
    except PropertyFailure as e:
        status, message, error = "failed", str(e), e
    except (BackendError, BackendTimeout, BackendCrash) as e:
        status, message, error = "error", str(e), e
    except Flaky as e:
        inner = [x for x in getattr(e, "exceptions", []) if isinstance(x, (PropertyFailure, BackendError))]
        status = "failed"
        message = (str(inner[0]) if inner else str(e)) + " " + NOT_REPRODUCIBLE
        error = e
    except Unsatisfiable:
        if state["declined"]:
            status, message = "passed", ""  # decided below: every example was declined
        else:
            status, message = "error", "no non-degenerate example could be drawn (every output was zero)"
    except ReplayMismatch as e:
        status, message = "error", f"the example does not replay on this version of {prop.name}: {e}"
    except Exception as e:  # the property itself broke: report, never crash the run
        status, message, error = "error", f"property raised {type(e).__name__}: {e}", e
    declined = sum(state["declined"].values())
    if declined and status == "passed":
        why = "; ".join(f"{r} ({n})" if len(state["declined"]) > 1 else r for r, n in state["declined"].most_common(3))
        if declined >= state["count"]:
            status, message = "skipped", f"the backend declined every example ({declined}): {why}"
        else:
            message = f"{declined} of {state['count']} examples declined: {why}"
    if status == "passed" and state["notes"]:
        notes = list(state["notes"])
        message = "; ".join(filter(None, [message, *notes[:2]])) + (f" (and {len(notes) - 2} more)" if len(notes) > 2 else "")
    replayed = db.replayed if db is not None else 0
    if status == "passed" and replayed and not declined:
        message = (f"{replayed} counterexample{'s' if replayed > 1 else ''} remembered from an earlier run "
                   f"{'now pass' if replayed > 1 else 'now passes'}")
    result = Result(backend.name, prop.name, list(prop.concepts), status, message,
                    seconds=round(time.perf_counter() - start, 3), examples=state.get("first_failure", state["count"]),
                    shrink_steps=state["count"] - state.get("first_failure", state["count"]), replayed=replayed,
                    declined=declined, worst_ratio=None if state.get("worst") is None else round(state["worst"], 4))
    if error is not None and state["ctx"] is not None:
        ctx = state["ctx"]  # the last run: hypothesis ends by running the minimal example once more
        calls = ctx.calls
        root = root_cause(calls, backend.capabilities)
        try:
            drawn = recorded.literal(ctx.drawn)
        except ValueError:  # a value without a literal: the reproduction shows the calls only
            drawn = None
        if status == "failed" and hasattr(backend, "earlier_calls") and backend.explained < EXPLAIN and ctx.calls:
            backend.explained += 1
            found = backend.earlier_calls([(c.op, c.args, c.kwargs, c.result) for c in ctx.calls], profile.call_timeout)
            if found is not None:
                before, last = found
                failing = next((c for c in ctx.calls if c.args is last[1]), None)
                calls = [Call(op, args, kwargs) for op, args, kwargs in before + [last]]
                why = failing is not None and agreement.disagreement(
                    failing.result, *last, backend.capabilities.accuracy_for(last[0], last[1], last[2]),
                    backend.capabilities.arithmetic_for(last[0]))
                root = (len(calls) - 1, why) if why else None
                note = (f"[the failing call depends on earlier calls: alone in a fresh process it answers differently; "
                        f"after the {len(before)} earlier call{'s' if len(before) != 1 else ''} of the reproduction it "
                        "answers as in the run]")
                result.message = message.replace(NOT_REPRODUCIBLE, "").rstrip() \
                    + " " + note
        # a backend whose answers vary may pass one run of the example: the reproduction runs it
        # until it fails (a deterministic bug fails at once; a fixed backend passes them all)
        tries = 1 if prop.large or prop.single else RETRIES
        result.counterexample = {
            "draws": recorded.shown(ctx.drawn),
            "choices": {label: repr(value) for label, value in ctx.drawn},
            "example": drawn,
            "calls": [_call_json(c) for c in calls],
            "root_cause": None if root is None else {"call": root[0] + 1, "op": calls[root[0]].op, "message": root[1]},
            "reproduction": reproduction(backend.target, prop.name, calls, result.message,
                                         accuracy=None if root is None else backend.capabilities.accuracy_for(
                                             calls[root[0]].op, calls[root[0]].args, calls[root[0]].kwargs),
                                         arithmetic=None if root is None else backend.capabilities.arithmetic_for(
                                             calls[root[0]].op),
                                         deviating=None if root is None else root[0], example=drawn,
                                         fixed=fixed, tries=tries, profile=profile.name,
                                         time_limit=profile.call_timeout if isinstance(error, BackendTimeout) else None)
            if calls else "",
        }
    return result
