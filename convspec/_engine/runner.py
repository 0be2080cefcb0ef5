"""Running properties against backends: the one runner behind the CLI and pytest.

:func:`run_property` runs one property on one backend with hypothesis and returns a
:class:`Result` (with the minimal counterexample and its reproduction).  The backend is
either loaded in this process (the pytest route) or a
:class:`~convspec._engine.remote.RemoteBackend` whose code runs in an executor process.

:func:`check` is the command line's route (README: The verdict belongs to the judge): per target, a judge process
(:mod:`convspec._engine.judge`) draws, computes the reference, compares and decides, while the
target's code runs only in that judge's executor.  This process never imports a target; it
starts the judges (at most ``jobs`` at a time), collects their results as plain data,
bounds every judge's silence, and on any exit -- normal, an exception, SIGINT or SIGTERM --
kills every judge and every executor's process group.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import random
import re
import select
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field

import hypothesis
import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase
from hypothesis.errors import DidNotReproduce, Flaky, Unsatisfiable

from convspec._contract import agreement as definition
from convspec._engine import wire
from convspec._engine.backend import Backend, load_backend, short_name, split_target
from convspec._engine.processes import child_env, describe_status, kill_group
from convspec._catalogue.property import BackendCrash, BackendError, BackendTimeout, Call, Context, Declined, Property, PropertyFailure
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


PROFILES = {
    "quick": Profile("quick", 20, 30, 300, 1),
    "default": Profile("default", 60, 60, 600, 2),
    "thorough": Profile("thorough", 250, 120, 3600, 6),
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

    def to_json(self) -> dict:
        return asdict(self)


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
    """The directory database of hypothesis (safe for concurrent runs: one file per
    example), counting the remembered failing examples it hands back for replay."""

    def __init__(self, path):
        super().__init__()
        self.inner = DirectoryBasedExampleDatabase(path)
        self.seen: set = set()

    @property
    def replayed(self) -> int:
        return len(self.seen)

    def fetch(self, key):
        for value in self.inner.fetch(key):
            if not key.endswith((b".secondary", b".pareto")):
                self.seen.add(value)
            yield value

    def save(self, key, value):
        self.inner.save(key, value)

    def delete(self, key, value):
        self.inner.delete(key, value)

    def move(self, src, dest, value):
        self.inner.move(src, dest, value)


def _notes(e) -> str:
    return "\n".join(n for n in getattr(e, "__notes__", []) if n.startswith("Draw"))


def _draws(e) -> dict:
    """The labelled draws of a failing example, ``{label: value as written}``."""
    out = {}
    for note in getattr(e, "__notes__", []):
        found = re.match(r"Draw \d+(?: \((.*?)\))?: (.*)", note, re.S)
        if found:
            out[found.group(1) or f"draw {len(out) + 1}"] = found.group(2)
    return out


def _call_json(c: Call) -> dict:
    """One recorded call as plain data: the arrays by dtype and shape, the keywords by value."""
    def arr(a):
        return {"dtype": a.dtype.name, "shape": list(a.shape)}

    return {"op": c.op, "args": [arr(a) for a in c.args],
            "kwargs": {k: arr(v) if isinstance(v, np.ndarray) else (list(v) if isinstance(v, tuple) else v)
                       for k, v in c.kwargs.items()},
            "layouts": list(c.layouts),
            "result": arr(c.result) if isinstance(c.result, np.ndarray) else None}


def root_cause(calls, capabilities) -> tuple[int, str] | None:
    """The first recorded call whose result already disagrees with the definition, as
    ``(index, why)``: the failure's root cause, whatever the property checked next."""
    for i, c in enumerate(calls):
        cls = capabilities.accuracy_for(c.op, c.args, c.kwargs)
        why = definition.deviation(c.result, c.op, c.args, c.kwargs, cls, capabilities.arithmetic_for(c.op)) \
            if c.result is not None else None
        if why:
            return i, why
    return None


def _blob(e) -> tuple[str, str] | None:
    """``(hypothesis version, choice blob)`` that replays the failing example exactly."""
    for note in getattr(e, "__notes__", []):
        found = re.search(r"@reproduce_failure\('([^']+)', b'([^']*)'\)", note)
        if found:
            return found.group(1), found.group(2)
    return None


def run_property(prop: Property, backend, *, profile="default", seed=None, fixed=None, examples=None,
                 database=None, replay=None) -> Result:
    """Run ``prop`` against ``backend`` (a :class:`~convspec._engine.backend.Backend` or a TARGET).

    ``fixed`` pins discrete axes (``{"dtype": "float32", ...}``), as the pytest plugin does;
    the others are drawn.  ``examples`` overrides the profile's count.  ``database`` is the
    folder of remembered counterexamples (:func:`examples_database`; ``None``: none): those of
    this backend and property are replayed first, and a failure found is remembered.
    ``replay``: ``(hypothesis version, blob)`` from a counterexample: run exactly that example
    (the property passes if it holds there).
    """
    if not isinstance(backend, Backend) and not getattr(backend, "isolated", False):
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
    if getattr(backend, "gave_up", None):
        base.status, base.message = "error", backend.gave_up
        return base
    state = {"ctx": None, "count": 0, "declined": collections.Counter()}
    deadline = time.monotonic() + profile.property_timeout

    def body(data):
        ctx = Context(prop, backend, data, fixed, profile.call_timeout, deadline, shapes=profile.shapes,
                      first_call_timeout=profile.first_call_timeout)
        state["ctx"] = ctx
        state["count"] += 1
        try:
            prop.fn(ctx)
        except Declined as d:  # outside what the backend supports: no evidence, draw another
            state["declined"][str(d)] += 1
            hypothesis.reject()
        except BaseException:
            state.setdefault("first_failure", state["count"])  # the examples after it are shrinking
            raise
        if ctx.degenerate:  # checked, but no evidence: hypothesis draws another
            hypothesis.reject()

    test = given(st.data())(body)
    # one key per backend, property and pinned axes in the database of remembered examples
    test._hypothesis_internal_add_digest = f"{backend.target}\0{prop.name}\0{sorted((fixed or {}).items())}".encode()
    test = hypothesis.seed(seed if seed is not None else random.getrandbits(32))(test)
    db = _Remembering(database) if database else None
    if replay is not None:
        test = hypothesis.reproduce_failure(replay[0], replay[1].encode("ascii"))(test)
    test = settings(
        max_examples=min(examples or profile.examples, profile.large_examples) if prop.large else (examples or profile.examples),
        deadline=None,
        database=db,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet if replay is not None else Verbosity.normal,
        print_blob=True,
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
    )(test)
    start = time.perf_counter()
    status, message, error = "passed", "", None
    try:
        test()
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
    except Exception as e:  # the property itself broke: report, never crash the run
        status, message, error = "error", f"property raised {type(e).__name__}: {e}", e
    declined = sum(state["declined"].values())
    if declined and status == "passed":
        why = "; ".join(f"{r} ({n})" if len(state["declined"]) > 1 else r for r, n in state["declined"].most_common(3))
        if declined >= state["count"]:
            status, message = "skipped", f"the backend declined every example ({declined}): {why}"
        else:
            message = f"{declined} of {state['count']} examples declined: {why}"
    replayed = db.replayed if db is not None else 0
    if status == "passed" and replayed and not declined:
        message = (f"{replayed} counterexample{'s' if replayed > 1 else ''} remembered from an earlier run "
                   f"{'now pass' if replayed > 1 else 'now passes'}")
    result = Result(backend.name, prop.name, list(prop.concepts), status, message,
                    seconds=round(time.perf_counter() - start, 3), examples=state.get("first_failure", state["count"]),
                    shrink_steps=state["count"] - state.get("first_failure", state["count"]), replayed=replayed,
                    declined=declined)
    if error is not None and state["ctx"] is not None:
        ctx = state["ctx"]
        calls = ctx.calls
        root = root_cause(calls, backend.capabilities)
        replay = _blob(error)
        if status == "failed" and hasattr(backend, "earlier_calls") and backend.explained < EXPLAIN and ctx.calls:
            backend.explained += 1
            found = backend.earlier_calls([(c.op, c.args, c.kwargs, c.result) for c in ctx.calls], profile.call_timeout)
            if found is not None:
                before, last = found
                failing = next((c for c in ctx.calls if c.args is last[1]), None)
                calls = [Call(op, args, kwargs) for op, args, kwargs in before + [last]]
                why = failing is not None and definition.deviation(
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
        tries = 1 if prop.large else RETRIES
        result.counterexample = {
            "draws": _notes(error),
            "choices": _draws(error),
            "calls": [_call_json(c) for c in calls],
            "root_cause": None if root is None else {"call": root[0] + 1, "op": calls[root[0]].op, "message": root[1]},
            "replay": None if replay is None else {"hypothesis": replay[0], "blob": replay[1]},
            "reproduction": reproduction(backend.target, prop.name, calls, result.message,
                                         accuracy=None if root is None else backend.capabilities.accuracy_for(
                                             calls[root[0]].op, calls[root[0]].args, calls[root[0]].kwargs),
                                         arithmetic=None if root is None else backend.capabilities.arithmetic_for(
                                             calls[root[0]].op),
                                         deviating=None if root is None else root[0], replay=replay,
                                         fixed=fixed, tries=tries, profile=profile.name,
                                         time_limit=profile.call_timeout if isinstance(error, BackendTimeout) else None)
            if calls else "",
        }
    return result


# --------------------------------------------------------------------- many, isolated


@dataclass
class BackendInfo:
    """What a judge learnt of a loaded target (plain data)."""

    label: str
    target: str
    name: str = ""
    ops: list = field(default_factory=list)
    capabilities: dict = field(default_factory=dict)
    doc: str = ""


@dataclass
class CheckRun:
    """The outcome of :func:`check`: results in (target, property) order, what each target
    turned out to be, the targets that did not load (label -> message), and whether the run
    was complete (``False`` after SIGINT/SIGTERM)."""

    results: list
    backends: list
    load_errors: dict
    complete: bool = True
    signal: int | None = None


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM reached the command line; ``run`` holds what was finished."""

    def __init__(self, signum, run=None):
        super().__init__(signum)
        self.signum = signum
        self.run = run


def labels_for(targets) -> list[str]:
    """Display names: each target's own short name, made unique where two would collide
    (``a/impl.py`` and ``b/impl.py`` rather than two ``impl`` columns)."""
    names = [short_name(t) for t in targets]
    out = list(names)
    for i, t in enumerate(targets):
        if names.count(names[i]) == 1:
            continue
        base, attr = split_target(t)
        parts = os.path.abspath(base).split(os.sep) if (os.sep in t or t.endswith(".py")) else [t]
        others = [os.path.abspath(split_target(o)[0]).split(os.sep) for j, o in enumerate(targets)
                  if j != i and names[j] == names[i]]
        depth = 1
        while depth < len(parts) and any(o[-depth:] == parts[-depth:] for o in others):
            depth += 1
        out[i] = "/".join(parts[-depth:]) + (f":{attr}" if attr else "")
    seen: dict[str, int] = {}
    for i, label in enumerate(out):
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            out[i] = f"{label}#{seen[label]}"
    return out


class _Judge:
    """The command line's handle on one judge process."""

    def __init__(self, target, label, names, profile, seed, import_timeout, examples=None, database=None):
        self.target, self.label, self.pending = target, label, list(names)
        job = json.dumps({"target": target, "label": label, "properties": list(names), "profile": asdict(profile),
                          "seed": seed, "import_timeout": import_timeout, "examples": examples, "database": database})
        read_fd, reply_fd = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-P", "-m", "convspec._engine.judge", job, "--reply-fd", str(reply_fd), "--parent", str(os.getpid())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, pass_fds=(reply_fd,), env=child_env())
        finally:
            os.close(reply_fd)
        self.channel = wire.Channel(read_fd)
        self.executors: list[int] = []
        self.results: list[Result] = []
        self.info: BackendInfo | None = None
        self.load_error: str | None = None
        self.finished = False
        self.heard = time.monotonic()

    def stop(self):
        """SIGTERM (the judge kills its executor), then SIGKILL; then the executors' groups."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pgid in self.executors:
            kill_group(pgid)
        if self.channel is not None:  # once: the number may belong to a newer pipe by now
            try:
                os.close(self.channel.fd)
            except OSError:
                pass
            self.channel = None


def check(targets, properties, *, profile="default", seed=None, jobs=1, progress=None,
          import_timeout=None, examples=None, database=None, skip=None) -> CheckRun:
    """Check every TARGET against ``properties``, each target judged in its own process and
    run in its own executor (see the module docstring).  ``examples`` overrides the
    profile's count per property; ``database`` is the folder of remembered counterexamples
    (``None``: none).  ``skip(label, property name)`` gives a reason not to run a property on a
    backend (listed as skipped with it), or ``None``.

    ``progress(result)`` is called as results arrive.  A target that does not load is
    reported once, in :attr:`CheckRun.load_errors`.  SIGINT and SIGTERM raise
    :class:`Interrupted` (carrying the partial :class:`CheckRun`) after every process of the
    run is gone.
    """
    from convspec._engine.remote import IMPORT_TIMEOUT

    profile = profile_named(profile)
    import_timeout = import_timeout or IMPORT_TIMEOUT
    seed = seed if seed is not None else random.getrandbits(32)
    by_name = {p.name: p for p in properties}
    names = [p.name for p in properties]
    labels = labels_for(list(targets))
    waiting = list(zip(targets, labels))
    running: list[_Judge] = []
    judges: list[_Judge] = []
    # a judge that says nothing for this long is stopped (its own limits normally end a call far sooner)
    silence = profile.property_timeout + profile.call_timeout + import_timeout + 60
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def interrupt(signum, _frame):
        raise Interrupted(signum)

    for sig in previous:
        signal.signal(sig, interrupt)

    def fail_rest(j: _Judge, message: str):
        for name in list(j.pending):
            p = by_name[name]
            record(j, Result(j.label, name, list(p.concepts), "error", message))

    def record(j: _Judge, result: Result):
        j.results.append(result)
        if result.property in j.pending:
            j.pending.remove(result.property)
        if progress:
            progress(result)

    def handle(j: _Judge, header: dict):
        kind = header.get("kind")
        if kind == "executor":
            j.executors.append(int(header["pgid"]))
        elif kind == "loaded":
            j.info = BackendInfo(j.label, j.target, header.get("name", ""), list(header.get("ops", [])),
                                 dict(header.get("capabilities", {})), header.get("doc", ""))
        elif kind == "load-error":
            j.load_error = str(header.get("message"))
            j.pending.clear()
            j.finished = True
        elif kind == "result":
            record(j, Result(**header["result"]))
        elif kind == "done":
            j.finished = True
        else:
            raise wire.ProtocolError(f"unknown message {kind!r}")

    def outcome(complete=True, signum=None) -> CheckRun:
        order = {label: i for i, label in enumerate(labels)}
        results = []
        for j in sorted(judges, key=lambda j: order[j.label]):
            got = {r.property: r for r in j.results}
            results.extend(got[n] for n in names if n in got)
        infos = [j.info for j in sorted(judges, key=lambda j: order[j.label]) if j.info is not None]
        errors = {j.label: j.load_error for j in judges if j.load_error}
        return CheckRun(results, infos, errors, complete, signum)

    try:
        while waiting or running:
            while waiting and len(running) < max(1, jobs):
                target, label = waiting.pop(0)
                listed = {n: skip(label, n) for n in names} if skip else {}
                j = _Judge(target, label, [n for n in names if not listed.get(n)], profile, seed, import_timeout,
                           examples, database)
                for n, why in listed.items():
                    if why:
                        record(j, Result(label, n, list(by_name[n].concepts), "skipped", why))
                judges.append(j)
                running.append(j)
            ready, _, _ = select.select([j.channel.fd for j in running], [], [], 1.0)
            for j in list(running):
                if j.channel.fd in ready:
                    try:
                        header, _ = j.channel.recv(time.monotonic() + 30)
                        j.heard = time.monotonic()
                        handle(j, header)
                    except (wire.Closed, wire.TimedOut, wire.ProtocolError, KeyError, TypeError, ValueError) as e:
                        code = j.process.poll()
                        if not j.finished:
                            why = describe_status(code) if isinstance(e, wire.Closed) else f"sent a bad message ({e})"
                            if j.info is None and not j.results:
                                j.load_error = f"the judge process for {j.target!r} {why} before the target was loaded"
                                j.pending.clear()
                            else:
                                fail_rest(j, f"not run: the judge process for this backend {why}")
                        j.finished = True
                elif time.monotonic() - j.heard > silence:
                    fail_rest(j, f"not run: the judge for this backend was silent for {silence:.0f} s and was stopped")
                    j.finished = True
                if j.finished:
                    j.stop()
                    running.remove(j)
    except Interrupted as e:
        raise Interrupted(e.signum, outcome(complete=False, signum=e.signum)) from None
    finally:
        for sig in previous:  # a second signal must not cut the clean-up short
            signal.signal(sig, signal.SIG_IGN)
        for j in judges:
            j.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return outcome()


def default_jobs(n_targets: int) -> int:
    return max(1, min(n_targets, os.cpu_count() or 1, 2))
