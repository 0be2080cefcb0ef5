"""The judge's side of isolation: a backend that runs in an executor process (docs/explanation/isolation.md).

:class:`RemoteBackend` looks like :class:`~convspec._engine.backend.Backend` to the properties, but
never imports the target: it starts ``python -P -m convspec._engine.executor`` in a session and
process group of its own, learns the target's name, functions and declaration from its
``hello`` (plain data, validated here), and sends each call as plain data
(:mod:`convspec._engine.wire`).  The limits are enforced from outside: a call that does not answer
in time, or an import that does not finish, ends with the executor's whole process group
killed (``SIGKILL``, which nothing can block or catch); the next call starts a fresh
executor.  After ``max_failures`` consecutive hangs or crashes the backend is given up on
(:attr:`RemoteBackend.gave_up`), so a broken target cannot cost the limit for every property.

What cannot be contained: a process the target starts that leaves the executor's process
group on purpose (``setsid``, a double fork into a new session) is not killed with it.
"""

from __future__ import annotations

import collections
import contextlib
import os
import subprocess
import sys
import threading
import time

import numpy as np

from convspec._engine import wire
from convspec._engine.backend import Backend, CallCrashed, CallTimeout, Capabilities, LoadError, Outcome, Raised, target_kind
from convspec._contract.functions import OPS, expected_shape
from convspec._contract.memory_layouts import base_of
from convspec._engine.backend import split_target
from convspec._engine.executor import LOST_CHANNEL
from convspec._engine.processes import (ROOT, SANDBOXES, bwrap_prefix, bwrap_usable, child_env, default_sandbox,
                                        describe_status, from_source_tree, kill_group, MemoryWatch)

#: Seconds the target's import may take (a JIT library or a large package can be slow).
IMPORT_TIMEOUT = 120.0
#: Consecutive hangs or crashes after which the backend's remaining properties are not run.
MAX_FAILURES = 3
#: Calls kept for replaying a failure that depends on earlier calls, and the largest call kept.
HISTORY = 400
HISTORY_BYTES = 1 << 22

class Output:
    """What the target prints (stdout and stderr), through a pipe a thread of the judge drains:
    the last :data:`TAIL` bytes kept in memory, the rest counted and dropped.  Nothing touches
    the disk, so a flood of output costs no space and leaves no file behind."""

    TAIL = 1 << 14

    def __init__(self):
        self.read_fd, self.write_fd = os.pipe()
        self.tail = bytearray()
        self.total = 0
        self.thread = threading.Thread(target=self._drain, daemon=True, name="convspec-executor-output")
        self.thread.start()

    def _drain(self):
        while True:
            try:
                data = os.read(self.read_fd, 1 << 16)
            except OSError:
                return
            if not data:
                return
            self.total += len(data)
            self.tail = (self.tail + data)[-self.TAIL:]

    def close_writer(self):
        """The judge's copy of the writing end (the executor has its own)."""
        if self.write_fd is not None:
            os.close(self.write_fd)
            self.write_fd = None

    def text(self, lines=12) -> str:
        """The last lines printed, as a message suffix (with the amount when it flooded)."""
        self.thread.join(0.2)  # what the process wrote just before it died
        text = bytes(self.tail).decode(errors="replace").strip()
        if not text:
            return ""
        flood = f" (it printed {self.total / (1 << 20):.0f} MiB; the rest was dropped)" if self.total > FLOOD else ""
        return f"; its last output{flood}:\n    " + "\n    ".join(text.splitlines()[-lines:])


#: Output beyond this many bytes is called a flood in messages (it is never stored).
FLOOD = 1 << 24


class Executor:
    """One executor process for one target (see the module docstring)."""

    def __init__(self, target: str, *, import_timeout: float = IMPORT_TIMEOUT, on_spawn=None, sandbox=None,
                 memory_limit=None):
        self.target = target
        self.kind = target_kind(target)  # once: every restart starts the same way
        self.import_timeout = import_timeout
        self.on_spawn = on_spawn  # called with the new process group id (so a parent can kill it)
        # convspec's own code (bundled backends, adapters of installed libraries) runs as a plain
        # process; a user's target in the sandbox asked for (default: bubblewrap where it works)
        chosen = sandbox or default_sandbox()
        if chosen not in SANDBOXES:
            raise LoadError(f"sandbox={chosen!r}, but should be one of {', '.join(SANDBOXES)}")
        if chosen == "bwrap" and not bwrap_usable():
            raise LoadError("sandbox='bwrap', but bubblewrap (bwrap) is not installed here or cannot make namespaces "
                            "(apt-get install bubblewrap); --sandbox process runs without it")
        self.sandbox = "process" if self.kind in ("bundled", "adapter") else chosen
        self.memory_limit = memory_limit
        self.process: subprocess.Popen | None = None
        self.channel: wire.Channel | None = None
        self.request_fd: int | None = None
        self.output: Output | None = None
        self.loaded = False
        self.next_id = 0

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> dict:
        """Start the process and wait for its ``hello``; :class:`LoadError` if the target does not load."""
        read_fd, reply_fd = os.pipe()
        request_read, request_write = os.pipe()
        self.output = Output()
        parent = 0 if self.sandbox == "bwrap" else os.getpid()
        cmd = [sys.executable, "-P", "-m", "convspec._engine.executor", "--target", self.target,
               "--request-fd", str(request_read), "--reply-fd", str(reply_fd), "--parent", str(parent)]
        env = child_env()
        # what the executor imports from must stay visible under the sandbox's private /tmp:
        # the interpreter, convspec, and every folder on the import path (PYTHONPATH, .pth files)
        readable = [sys.prefix, os.path.dirname(os.path.dirname(os.__file__)), ROOT]
        readable += [p for p in sys.path + env.get("PYTHONPATH", "").split(os.pathsep) if p]
        if from_source_tree():
            cmd += ["--judge-root", ROOT]
        if self.kind in ("bundled", "adapter"):  # convspec's own code: loaded from the judge's convspec
            cmd.append("--bundled")
        if self.kind == "module":
            cmd += ["--module-path", os.getcwd()]
            readable.append(os.getcwd())
        if self.kind == "file":
            readable.append(os.path.dirname(os.path.abspath(split_target(self.target)[0])))
        if self.sandbox == "bwrap":
            cmd = bwrap_prefix(readable) + cmd
        try:
            self.process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.output.write_fd,
                                            stderr=self.output.write_fd, pass_fds=(reply_fd, request_read),
                                            start_new_session=True, env=env)
        finally:
            os.close(reply_fd)
            os.close(request_read)
            self.output.close_writer()
        self.request_fd = request_write
        self.memory = MemoryWatch(self.process.pid, self.memory_limit, lambda: kill_group(self.process.pid))
        if self.on_spawn:
            self.on_spawn(self.process.pid)
        os.set_blocking(request_write, False)
        self.channel = wire.Channel(read_fd)
        with self._failing_as(
                lambda: LoadError(f"TARGET={self.target!r} did not finish loading within {self.import_timeout:.0f} s "
                                  "(raise the limit with --import-timeout)"),
                lambda code: LoadError(f"TARGET={self.target!r}: the process loading it {describe_status(code)} "
                                       f"before it was loaded{_exit_hint(code)}{self.log_tail()}"),
                lambda e: LoadError(f"TARGET={self.target!r} wrote something that is not a convspec message while "
                                    f"loading: {e}")):
            header, _ = self.channel.recv(time.monotonic() + self.import_timeout)
        if header.get("kind") == "load-error":
            self.kill()
            raise LoadError(str(header.get("message", "the target did not load"))[:2000])
        if header.get("kind") != "hello":
            self.kill()
            raise LoadError(f"TARGET={self.target!r} answered {wire.safe_repr(header.get('kind'), 40)} instead of hello")
        self.loaded = True
        return header

    @contextlib.contextmanager
    def _failing_as(self, timed_out, closed, garbled):
        """Talking to the executor: past the deadline, when it closed its end, or when it sent
        something malformed, its process group is killed and ``timed_out()``,
        ``closed(exit status)`` or ``garbled(error)`` is raised instead."""
        try:
            yield
        except wire.TimedOut:
            self.kill()
            raise timed_out() from None
        except wire.Closed:
            raise closed(self._reap()) from None
        except wire.ProtocolError as e:
            self.kill()
            raise garbled(e) from None

    def _memory_note(self) -> str:
        memory = getattr(self, "memory", None)
        return memory.note() if memory is not None else ""

    def log_tail(self, lines=12) -> str:
        """The last lines the target printed (stdout and stderr), as a message suffix."""
        return self.output.text(lines) if self.output is not None else ""

    def _reap(self, wait=5.0) -> int | None:
        """Wait for the process after it closed its end, kill its group, return its status."""
        try:
            code = self.process.wait(wait)
        except subprocess.TimeoutExpired:
            code = None
        self.kill()
        return code if code is not None else self.process.returncode

    def kill(self) -> None:
        """SIGKILL the executor's whole process group (children it started included)."""
        if self.process is None:
            return
        if getattr(self, "memory", None) is not None:
            self.memory.stop()
        kill_group(self.process.pid)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not wait this long
            pass
        if self.request_fd is not None:
            try:
                os.close(self.request_fd)
            except OSError:
                pass
            self.request_fd = None
        if self.channel is not None:
            try:
                os.close(self.channel.fd)
            except OSError:
                pass
            self.channel = None

    def close(self) -> None:
        """Ask the executor to exit, then make sure its group is gone."""
        if self.alive and self.request_fd is not None:
            try:
                wire.send(self.request_fd, {"kind": "bye"}, deadline=time.monotonic() + 1)
            except (wire.Closed, wire.TimedOut, OSError, ValueError):
                pass
        self.kill()

    def request(self, header: dict, buffers: list, timeout: float | None, expect: tuple,
                max_bytes: int | None = None) -> tuple[dict, list]:
        """Send one request, return the answer of a kind in ``expect``.

        :class:`CallTimeout` past ``timeout`` seconds, :class:`CallCrashed` if the process
        dies or answers something malformed; either way the process group is killed.
        """
        self.next_id += 1
        cid = header["id"] = self.next_id
        deadline = time.monotonic() + timeout if timeout else None
        with self._failing_as(
                CallTimeout,
                lambda code: CallCrashed(f"the executor process running the backend {describe_status(code)} during "
                                         f"this call{self._memory_note() or _exit_hint(code)}{self.log_tail()}"),
                lambda e: CallCrashed(f"the executor process answered with a malformed message ({e})")):
            wire.send(self.request_fd, header, buffers, deadline=deadline)
            answer, got = self.channel.recv(deadline, max_bytes=max_bytes)
        if answer.get("id") != cid or answer.get("kind") not in expect:
            self.kill()
            raise CallCrashed(f"the executor process answered {wire.safe_repr(answer.get('kind'), 40)} for request "
                              f"{wire.safe_repr(answer.get('id'), 20)}, but should answer request {cid}")
        return answer, got


def _limits(op, args, kwargs, buffers) -> tuple[int, int]:
    """``(bytes a result may hold, bytes an answer may hold)`` for one call: the contract's
    output at 16 bytes an element (the widest dtype), and the inputs again (the writes a call
    made into them come back); a result larger than that is described, not sent."""
    try:
        elements = int(np.prod(expected_shape(op, args, kwargs)))
    except Exception:  # a call the contract gives no shape: bounded by the inputs
        elements = sum(int(np.size(a)) for a in args)
    inputs = sum(int(a.nbytes) for a in args if isinstance(a, np.ndarray)) + \
        sum(int(v.nbytes) for v in kwargs.values() if isinstance(v, np.ndarray))
    limit = 16 * elements + 4096
    return limit, 2 * limit + 2 * inputs + (1 << 20)


def _exit_hint(code) -> str:
    if code == LOST_CHANNEL:
        return (" (its request or reply descriptor was closed or replaced, by the backend: the channel to the judge "
                "was lost)")
    if code is not None and code >= 0:
        return " (os._exit, exit() from native code, or a fatal error)"
    return ""


class RemoteBackend:
    """A backend whose code runs only in an executor process (see the module docstring).

    Use as a context manager, or call :meth:`close`: the executor's process group is killed
    on close.  ``label`` is the name shown in tables (default: the target's own name).
    """

    isolated = True

    def __init__(self, target: str, *, label: str | None = None, import_timeout: float = IMPORT_TIMEOUT,
                 max_failures: int = MAX_FAILURES, on_spawn=None, sandbox=None, memory_limit=None):
        if not isinstance(target, str):
            raise LoadError(f"TARGET={target!r}, but an isolated backend is named by a string TARGET")
        self.target = target
        self.executor = Executor(target, import_timeout=import_timeout, on_spawn=on_spawn, sandbox=sandbox,
                                 memory_limit=memory_limit)
        self.sandbox, self.memory_limit = self.executor.sandbox, memory_limit
        self.max_failures = max_failures
        self.failures = 0
        self.gave_up: str | None = None
        self.import_timeout = import_timeout
        self.explained = 0  # failures whose examples were replayed in a fresh executor (runner.EXPLAIN)
        # the calls this executor process has answered, oldest first, for replaying a failure
        # that depends on earlier calls (None once a call too large to keep has gone by)
        self.history: collections.deque | None = collections.deque(maxlen=HISTORY)
        try:
            self._accept(self.executor.start(), label)
        except LoadError:
            self.executor.close()  # its process group and its log file
            raise

    def _accept(self, hello: dict, label):
        name = hello.get("name")
        ops = hello.get("ops")
        if not isinstance(name, str) or not isinstance(ops, list) or not set(ops) <= set(OPS):
            raise LoadError(f"TARGET={self.target!r}: the executor's hello is malformed")
        try:
            declared = wire.decode(hello.get("capabilities"), [])
        except wire.ProtocolError as e:
            raise LoadError(f"TARGET={self.target!r}: convspec_capabilities is not plain data ({e})") from None
        self.capabilities = Capabilities.declared(declared)
        self.name = label or name
        self.own_name = name
        self.found_ops = tuple(op for op in OPS if op in ops)
        doc = hello.get("doc")
        self.doc = doc if isinstance(doc, str) else ""
        if not self.ops:
            raise LoadError(
                f"TARGET={self.target!r} has none of the contract functions {', '.join(OPS)} "
                "(or its convspec_capabilities['ops'] excludes them all)"
            )

    @property
    def ops(self) -> tuple[str, ...]:
        return tuple(op for op in self.found_ops if op in self.capabilities.ops)

    @property
    def pgid(self) -> int | None:
        return self.executor.process.pid if self.executor.process is not None else None

    def __repr__(self):
        return f"RemoteBackend({self.name!r})"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        self.executor.close()

    # ------------------------------------------------------------ calling

    def _ensure_running(self):
        if self.gave_up:
            raise CallCrashed(self.gave_up)
        if not self.executor.alive:
            self.history = collections.deque(maxlen=HISTORY)  # a fresh process remembers nothing
            try:
                self.executor.close()
                self.executor.start()
            except LoadError as e:
                self._failed(f"restarting the executor failed: {e}")
                raise CallCrashed(str(e)) from None

    def _failed(self, what: str):
        self.failures += 1
        if self.failures >= self.max_failures and not self.gave_up:
            self.gave_up = (f"not run: the backend hung or crashed in {self.failures} consecutive calls "
                            f"(the last: {what.splitlines()[0]})")

    def _request(self, header, buffers, timeout, expect, max_bytes=None):
        self._ensure_running()
        try:
            answer = self.executor.request(header, buffers, timeout, expect, max_bytes)
        except CallTimeout:
            self._failed(f"{header.get('op', 'a call')} took longer than {timeout} s")
            raise
        except CallCrashed as e:
            self._failed(str(e))
            raise
        self.failures = 0
        return answer

    def invoke(self, op, args, kwargs, timeout=None) -> Outcome:
        """Run ``op`` in the executor; the judge's arrays get the writes the call made into them."""
        if op not in self.found_ops:
            raise AttributeError(f"backend {self.name!r} has no {op!r}")
        buffers: list = []
        header = {"kind": "call", "op": op, "args": wire.encode(tuple(args), buffers),
                  "kwargs": wire.encode(dict(kwargs), buffers)}
        if self.history is not None:
            if sum(b.nbytes if hasattr(b, "nbytes") else len(b) for b in buffers) > HISTORY_BYTES:
                self.history = None
            else:
                self.history.append((op, tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args),
                                     dict(kwargs)))
        limit, max_bytes = _limits(op, args, kwargs, buffers)
        header["limit"] = limit
        answer, got = self._request(header, buffers, timeout, ("result", "raised", "exit"), max_bytes)
        try:
            return self._outcome(answer, got, args)
        except wire.ProtocolError as e:
            self.executor.kill()
            self._failed(str(e))
            raise CallCrashed(f"the executor process answered with a malformed result ({e})") from None

    def invoke_threaded(self, op, calls, threads, timeout=None) -> list[Outcome]:
        """Run ``calls`` (``(args, kwargs)`` each) at once on ``threads`` worker threads of the
        executor; their outcomes in order (inputs are not mirrored back: the calls share none)."""
        if op not in self.found_ops:
            raise AttributeError(f"backend {self.name!r} has no {op!r}")
        buffers: list = []
        header = {"kind": "threads", "op": op, "threads": threads,
                  "calls": wire.encode([(tuple(a), dict(k)) for a, k in calls], buffers)}
        limits = [_limits(op, a, k, []) for a, k in calls]
        header["limit"] = max(limit for limit, _ in limits)
        answer, got = self._request(header, buffers, timeout, ("threaded",), sum(m for _, m in limits))
        answers = answer.get("answers")
        try:
            if not isinstance(answers, list) or len(answers) != len(calls):
                raise wire.ProtocolError("the threaded answers do not match the calls")
            return [self._outcome(dict(a, id=answer["id"]), got, args) if isinstance(a, dict) and a.get("kind") == "result"
                    else self._outcome(a, got, args) for a, (args, _) in zip(answers, calls)]
        except (wire.ProtocolError, KeyError, TypeError, AttributeError) as e:
            self.executor.kill()
            self._failed(str(e))
            raise CallCrashed(f"the executor process answered with malformed threaded results ({e})") from None

    def _outcome(self, answer, got, args) -> Outcome:
        kind = answer["kind"]
        if kind == "exit":
            return Outcome(raised=Raised("SystemExit", ("SystemExit", "BaseException"),
                                         f"the backend called sys.exit({str(answer.get('code'))[:100]}) inside the call"))
        if kind == "raised":
            mro = answer.get("mro")
            mro = tuple(str(m)[:100] for m in mro) if isinstance(mro, list) else ()
            return Outcome(raised=Raised(str(answer.get("type"))[:100], mro, str(answer.get("message", ""))[:4000],
                                         str(answer.get("where", ""))[:500]))
        value = wire.decode(answer.get("value"), got)
        mutated = answer.get("mutated") or {}
        if not isinstance(mutated, dict):
            raise wire.ProtocolError("'mutated' is not an object")
        for key, tree in mutated.items():
            if not key.isdigit() or int(key) >= len(args) or not isinstance(args[int(key)], np.ndarray):
                raise wire.ProtocolError(f"'mutated' names argument {wire.safe_repr(key, 20)}")
            _mirror(args[int(key)], wire.decode(tree, got))
        shares_input = _indices(answer.get("shares_input"))
        shares_previous = _indices(answer.get("shares_previous"))
        return Outcome(value=value, shares_input=shares_input, shares_previous=shares_previous, handle=answer["id"])

    def replay(self, calls, timeout=None) -> Outcome:
        """Run ``calls`` (``(op, args, kwargs)``) in a fresh executor of the same target and
        return the last one's outcome: what a caller who made only those calls would see."""
        with RemoteBackend(self.target, import_timeout=self.import_timeout) as fresh:
            for op, args, kwargs in calls[:-1]:
                fresh.invoke(op, args, kwargs, timeout)
            op, args, kwargs = calls[-1]
            return fresh.invoke(op, args, kwargs, timeout)

    def earlier_calls(self, example, timeout=None, budget=40):
        """Why a failing example may not reproduce on its own.

        ``example`` holds the example's calls as ``(op, args, kwargs, result)``, the last ones
        this process answered.  The example is replayed in a fresh executor: if every call
        answers as it did here, it stands on its own and ``None`` is returned.  Otherwise the
        first call that answers differently depends on earlier calls, and the fewest earlier
        calls after which a fresh process gives that call's answer from here are returned as
        ``(calls, call)``.  Each trial starts a fresh executor; at most ``budget`` trials."""
        if self.history is None or len(self.history) < len(example):
            return None
        calls = [(op, args, kwargs) for op, args, kwargs, _ in example]
        try:
            fresh_runs = []
            for _ in range(2):  # two fresh processes that disagree: answers vary, history is not the cause
                with RemoteBackend(self.target, import_timeout=self.import_timeout) as fresh:
                    fresh_runs.append([fresh.invoke(op, args, kwargs, timeout) for op, args, kwargs in calls])
        except (CallCrashed, CallTimeout, LoadError):
            return None
        replayed = fresh_runs[0]
        if not all(_same(a, None if b.raised is not None else b.value) for a, b in zip(*fresh_runs)):
            return None
        here = [result for *_, result in example]
        first = next((i for i, (o, y) in enumerate(zip(replayed, here)) if not _same(o, y)), None)
        if first is None:
            return None
        before = list(self.history)[:len(self.history) - len(example)] + calls[:first]
        call, wanted = calls[first], here[first]
        trials = [0]

        def reproduces(prefix) -> bool:
            trials[0] += 1
            try:
                return _same(self.replay(prefix + [call], timeout), wanted)
            except (CallCrashed, CallTimeout, LoadError):
                return False

        if not reproduces(before):
            return None
        k = 1  # the shortest suffix of the history after which the call answers as here
        while k < len(before) and trials[0] < budget and not reproduces(before[-k:]):
            k *= 2
        kept = before[-k:]
        i = 0  # then drop the calls it does not need, one at a time
        while i < len(kept) and trials[0] < budget:
            trial = kept[:i] + kept[i + 1:]
            if reproduces(trial):
                kept = trial
            else:
                i += 1
        return kept, call

    def current(self, handle):
        """The current contents of the result of call ``handle`` in the executor."""
        answer, got = self._request({"kind": "fetch", "handle": handle, "op": "fetch"}, [], 60, ("fetched", "gone"))
        if answer["kind"] == "gone":
            return None
        try:
            return wire.decode(answer.get("value"), got)
        except wire.ProtocolError as e:
            raise CallCrashed(f"the executor process answered with a malformed result ({e})") from None

    def __getattr__(self, op):
        if op in OPS and op in self.__dict__.get("found_ops", ()):
            def call(*args, **kwargs):
                outcome = self.invoke(op, args, kwargs)
                if outcome.raised:
                    raise RemoteError(outcome.raised)
                return outcome.value
            call.__name__ = op
            return call
        raise AttributeError(f"backend {self.__dict__.get('name', self.target)!r} has no {op!r}")


class RemoteError(Exception):
    """An exception raised by a backend in its executor (``.raised`` describes it)."""

    def __init__(self, raised: Raised):
        super().__init__(f"{raised.type}: {raised.message}")
        self.raised = raised


def _same(outcome: Outcome, result) -> bool:
    """Whether a replayed call answered ``result`` (an array, or ``None`` for a raise) bit for bit."""
    if outcome.raised is not None or result is None:
        return outcome.raised is not None and result is None
    y = outcome.value
    return isinstance(y, np.ndarray) and isinstance(result, np.ndarray) and y.shape == result.shape and \
        y.dtype == result.dtype and np.array_equal(y, result, equal_nan=True)


def _indices(value) -> tuple:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(type(v) is int for v in value):
        raise wire.ProtocolError(f"expected a list of ints, got {wire.safe_repr(value, 60)}")
    return tuple(value)


def _mirror(arg: np.ndarray, new: np.ndarray) -> None:
    """Write the executor's view of an argument's buffer into the judge's copy, so the
    judge sees every write the backend made into its inputs."""
    if not isinstance(new, np.ndarray):
        raise wire.ProtocolError("a mutated argument came back as something other than an array")
    base = base_of(arg)
    if base.shape == new.shape and base.dtype == new.dtype and base.flags.writeable:
        base[...] = new
    elif arg.shape == new.shape and arg.flags.writeable:
        arg[...] = new


def open_backend(target, **kwargs):
    """A :class:`RemoteBackend` for TARGET (a :class:`Backend` or object is run in-process as it is)."""
    if isinstance(target, (Backend, RemoteBackend)) or not isinstance(target, str):
        from convspec._engine.backend import load_backend

        return load_backend(target) if not isinstance(target, RemoteBackend) else target
    return RemoteBackend(target, **kwargs)
