"""The command line's run: every TARGET judged in its own process (docs/explanation/isolation.md).

Per target, a judge process (:mod:`convspec._engine.judge`) draws, computes the reference,
compares and decides, while the target's code runs only in that judge's executor.  This
process never imports a target; :func:`check` starts the judges (at most ``jobs`` at a
time), collects their results as plain data, bounds every judge's silence, and on any exit
-- normal, an exception, SIGINT or SIGTERM -- kills every judge and every executor's
process group.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import select
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field

from convspec._engine import wire
from convspec._engine.backend import short_name, split_target
from convspec._engine.processes import child_env, describe_status, kill_group, state_of

#: Times a judge found stopped is continued before it is ended (a backend that keeps stopping it).
STOPS = 20
from convspec._engine.runner import Result, profile_named



@dataclass
class BackendInfo:
    """What a judge learnt of a loaded target (plain data)."""

    label: str
    target: str
    name: str = ""
    ops: list = field(default_factory=list)
    capabilities: dict = field(default_factory=dict)
    doc: str = ""
    sandbox: str = ""  # what the executor ran in: "bwrap" or "process"
    memory_limit: int | None = None  # its resident-memory limit in bytes


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

    def __init__(self, target, label, names, profile, seed, import_timeout, examples=None, database=None,
                 catalogue=None, sandbox=None, memory_limit=None):
        self.target, self.label, self.pending = target, label, list(names)
        job = json.dumps({"target": target, "label": label, "properties": list(names), "profile": asdict(profile),
                          "seed": seed, "import_timeout": import_timeout, "examples": examples, "database": database,
                          "catalogue": catalogue, "sandbox": sandbox, "memory_limit": memory_limit})
        key = secrets.token_bytes(32)
        self.signer = wire.Signer(key)
        read_fd, reply_fd = os.pipe()
        job_read, job_write = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-P", "-m", "convspec._engine.judge", "--job-fd", str(job_read), "--reply-fd",
                 str(reply_fd), "--parent", str(os.getpid())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, pass_fds=(reply_fd, job_read), env=child_env())
        finally:
            os.close(reply_fd)
            os.close(job_read)
        with os.fdopen(job_write, "wb") as f:  # read once by the judge, then closed: nothing to find later
            try:
                f.write(key.hex().encode() + b"\n" + job.encode())
            except BrokenPipeError:  # the judge died at once: reported as a judge that did not start
                pass
        self.channel = wire.Channel(read_fd)
        self.executors: list[int] = []
        self.results: list[Result] = []
        self.info: BackendInfo | None = None
        self.load_error: str | None = None
        self.finished = False
        self.heard = time.monotonic()
        self.stops = 0  # times it was found stopped (SIGSTOP) and continued

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
          import_timeout=None, examples=None, database=None, skip=None, catalogue=None, sandbox=None,
          memory_limit=None, profiles=None) -> CheckRun:
    """Check every TARGET against ``properties``, each target judged in its own process and
    run in its own executor (see the module docstring).  ``examples`` overrides the
    profile's count per property; ``database`` is the folder of remembered counterexamples
    (``None``: none); ``catalogue`` the pinned catalogue version (``None``: this convspec's);
    ``sandbox`` what the executors of users' targets run in (``"bwrap"``, ``"process"``; ``None``:
    bubblewrap where it works); ``memory_limit`` each executor's resident memory in bytes;
    ``profiles`` maps a target to a profile of its own (the others run under ``profile``).
    ``skip(label, property name)`` gives a reason not to run a property on a
    backend (listed as skipped with it), or ``None``.

    ``progress(result)`` is called as results arrive.  A target that does not load is
    reported once, in :attr:`CheckRun.load_errors`.  SIGINT and SIGTERM raise
    :class:`Interrupted` (carrying the partial :class:`CheckRun`) after every process of the
    run is gone.
    """
    from convspec._engine.remote import IMPORT_TIMEOUT

    profile = profile_named(profile)
    own = {t: profile_named(p) for t, p in (profiles or {}).items()}
    import_timeout = import_timeout or IMPORT_TIMEOUT
    seed = seed if seed is not None else random.getrandbits(32)
    by_name = {p.name: p for p in properties}
    names = [p.name for p in properties]
    labels = labels_for(list(targets))
    waiting = list(zip(targets, labels))
    running: list[_Judge] = []
    judges: list[_Judge] = []
    # a judge that says nothing for this long is stopped (its own limits normally end a call far
    # sooner); once its target has loaded, the import limit no longer counts
    longest = max([profile, *own.values()], key=lambda p: p.property_timeout + p.call_timeout)
    loading_silence = longest.property_timeout + longest.call_timeout + import_timeout + 60
    loaded_silence = longest.property_timeout + longest.call_timeout + 60
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
                                 dict(header.get("capabilities", {})), header.get("doc", ""),
                                 str(header.get("sandbox", "")), header.get("memory_limit"))
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
                j = _Judge(target, label, [n for n in names if not listed.get(n)], own.get(target, profile), seed,
                           import_timeout, examples, database, catalogue, sandbox, memory_limit)
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
                        header = j.signer.verify(header)
                        j.heard = time.monotonic()
                        handle(j, header)
                    except (wire.Closed, wire.TimedOut, wire.ProtocolError, KeyError, TypeError, ValueError) as e:
                        try:  # a judge that closed its end is exiting: its status, once it has
                            code = j.process.wait(2 if isinstance(e, wire.Closed) else 0.01)
                        except subprocess.TimeoutExpired:
                            code = None
                        if not j.finished:
                            why = describe_status(code) if isinstance(e, wire.Closed) else f"sent a bad message ({e})"
                            if j.info is None and not j.results:
                                j.load_error = f"the judge process for {j.target!r} {why} before the target was loaded"
                                j.pending.clear()
                            else:
                                fail_rest(j, f"not run: the judge process for this backend {why}")
                        j.finished = True
                elif state_of(j.process.pid) == "T":  # stopped by a signal (this process runs: not a terminal's stop)
                    j.stops += 1
                    if j.stops > STOPS:
                        fail_rest(j, f"not run: the judge for this backend was stopped (SIGSTOP) {j.stops} times, by "
                                     "the backend or another process, and was ended")
                        j.finished = True
                    else:
                        os.kill(j.process.pid, signal.SIGCONT)
                elif time.monotonic() - j.heard > (silence := loaded_silence if j.info else loading_silence):
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
