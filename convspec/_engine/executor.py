"""The executor: the only process that imports and runs a target's code (docs/explanation/isolation.md).

Started by the judge (:mod:`convspec._engine.remote`) as ``python -P -m convspec._engine.executor``, in a
session and process group of its own (inside a bubblewrap sandbox where one is available),
with the target's folder alone on ``sys.path`` and stdin on ``/dev/null``.  It imports the
target, answers ``hello`` with the target's name, functions and declaration, then serves
requests read from its request descriptor and answers on its reply descriptor (both its
own, made before the target runs), in the plain-data protocol of :mod:`convspec._engine.wire`:

* ``call`` -- rebuild the arguments (in the judge's memory layouts), call the function, and
  send back the result (or the exception described; a result larger than the contract's
  output is described, not sent), which inputs it wrote into (with their new contents), and
  whether its memory is shared with an input or an earlier result;
* ``threads`` -- several calls at once on worker threads, the results in order;
* ``fetch`` -- the current contents of an earlier result (kept alive here, as a caller
  would keep it), so the judge can see whether a later call wrote into it;
* ``bye`` -- exit.

Everything the executor reports is data the judge checks; nothing it sends is a verdict.
The memory facts (aliasing, writes into inputs or earlier results) can only be observed
here, so the functions that observe them are bound before the target is imported.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import os
import signal
import sys
import threading
import traceback

import numpy as np

from convspec._engine import wire
from convspec._contract.memory_layouts import base_of
from convspec._engine.processes import die_with_parent

# Bound before any target code runs: patching numpy later does not change these.
_shares_memory = np.shares_memory
_may_share_memory = np.may_share_memory
_ndarray = np.ndarray
_TooHard = np.exceptions.TooHardError if hasattr(np, "exceptions") else Exception
_tobytes = np.ndarray.tobytes
_os_exit = os._exit
_send = wire.send

#: Results kept alive for ``fetch`` (and for the aliasing check of later results).
KEEP = 8
#: Exit status when the backend closed or replaced the executor's request or reply descriptor.
LOST_CHANNEL = 86


def _overlaps(a, b) -> bool:
    try:
        return bool(_shares_memory(a, b, max_work=10_000))
    except _TooHard:
        return bool(_may_share_memory(a, b))


def _raised(e: BaseException) -> dict:
    """An exception described as plain data (its type names, message and where it came from)."""
    try:
        message = str(e)
    except BaseException:
        message = f"<{type(e).__name__} whose str() raised>"
    where = ""
    try:
        frames = traceback.extract_tb(e.__traceback__)
        if frames:
            where = f"{frames[-1].filename}:{frames[-1].lineno}"
    except BaseException:
        pass
    mro = [c.__name__ for c in type(e).__mro__ if c is not object]
    return {"kind": "raised", "type": type(e).__name__, "mro": mro, "message": message[:4000], "where": where}


def _load(target: str):
    """Import the target; ``(object, name)`` or a message saying why it did not load."""
    from convspec._engine.backend import LoadError, resolve

    try:
        return resolve(target), None
    except LoadError as e:
        return None, str(e)
    except SystemExit as e:
        return None, f"TARGET={target!r} called sys.exit({e.code!r}) while loading"
    except BaseException as e:
        return None, f"TARGET={target!r} failed to load: {type(e).__name__}: {wire.safe_repr(str(e), 500)}"


def _hello(obj, name: str) -> dict:
    from convspec._contract.functions import OPS

    try:
        ops = [op for op in OPS if callable(getattr(obj, op, None))]
    except BaseException as e:
        return {"kind": "load-error", "message": f"looking up the contract functions raised {type(e).__name__}: {e}"}
    try:
        declared = getattr(obj, "convspec_capabilities", None)
    except BaseException as e:
        return {"kind": "load-error", "message": f"reading convspec_capabilities raised {type(e).__name__}: {e}"}
    buffers: list = []
    try:
        capabilities = wire.encode(declared, buffers)
    except (TypeError, ValueError) as e:
        return {"kind": "load-error", "message": f"convspec_capabilities={wire.safe_repr(declared)} is not plain data ({e})"}
    if buffers:
        return {"kind": "load-error", "message": "convspec_capabilities holds arrays, but should hold names and numbers"}
    try:
        doc = (getattr(obj, "__doc__", None) or "") if isinstance(getattr(obj, "__doc__", None), str) else ""
    except BaseException:
        doc = ""
    return {"kind": "hello", "name": name, "ops": ops, "capabilities": capabilities, "doc": doc[:2000],
            "pid": os.getpid()}


class Server:
    """Serves the judge's requests for one loaded target object."""

    def __init__(self, obj, reply_fd: int):
        self.obj = obj
        self.reply_fd = reply_fd
        self.kept: collections.OrderedDict[int, object] = collections.OrderedDict()

    def reply(self, header, buffers=()):
        try:
            _send(self.reply_fd, header, buffers)
        except (OSError, wire.Closed):  # the backend closed or replaced the reply descriptor
            _os_exit(LOST_CHANNEL)

    def _run(self, op, args, kwargs):
        """``(result, None)`` or ``(None, the reply for a raise or an exit)`` of one call."""
        try:
            return getattr(self.obj, op)(*args, **kwargs), None
        except SystemExit as e:
            return None, {"kind": "exit", "code": wire.safe_repr(e.code)}
        except BaseException as e:
            return None, _raised(e)

    def _value(self, y, limit, out):
        """The result as plain data, or only described when it holds more bytes than ``limit``
        (the judge knows the contract's output size: a larger result is refused unread)."""
        if isinstance(y, _ndarray) and isinstance(limit, int) and y.nbytes > limit:
            return {"O": "ndarray", "repr": f"array of shape {tuple(y.shape)} and dtype {y.dtype} ({y.nbytes} bytes, "
                                            f"more than the contract's output holds)",
                    "dtype": str(y.dtype), "shape": list(y.shape)}
        return wire.encode(y, out, describe_unknown=True)

    def call(self, header, buffers):
        cid, op = header.get("id"), header.get("op")
        args = wire.decode(header.get("args"), buffers, rebuild_layouts=True)
        kwargs = wire.decode(header.get("kwargs"), buffers)
        if not isinstance(args, tuple) or not isinstance(kwargs, dict):
            raise wire.ProtocolError("call arguments are not a tuple and a dict")
        arrays = [(i, a, base_of(a)) for i, a in enumerate(args) if isinstance(a, _ndarray)]
        before = [_tobytes(b, order="A") for _, _, b in arrays]
        y, failed = self._run(op, args, kwargs)
        if failed is not None:
            return self.reply(dict(failed, id=cid))
        out: list = []
        value = self._value(y, header.get("limit"), out)
        mutated = {}
        for (i, a, b), was in zip(arrays, before):
            if _tobytes(b, order="A") != was:
                mutated[str(i)] = wire.encode(np.array(b, order="C"), out)
        shares_input, shares_previous = [], []
        if isinstance(y, _ndarray):
            shares_input = [i for i, a in enumerate(args) if isinstance(a, _ndarray) and _overlaps(y, a)]
            shares_previous = [k for k, prev in self.kept.items() if isinstance(prev, _ndarray) and _overlaps(y, prev)]
        self.kept[cid] = y
        while len(self.kept) > KEEP:
            self.kept.popitem(last=False)
        self.reply({"kind": "result", "id": cid, "value": value, "mutated": mutated,
                    "shares_input": shares_input, "shares_previous": shares_previous}, out)

    def threads(self, header, buffers):
        """Several calls at once, each on a worker thread of its own (as a program's thread pool
        makes them); the results in the order of the calls."""
        rid, op, threads = header.get("id"), header.get("op"), header.get("threads")
        calls = wire.decode(header.get("calls"), buffers, rebuild_layouts=True)
        if not isinstance(calls, list) or not all(isinstance(c, tuple) and len(c) == 2 for c in calls) \
                or type(threads) is not int or not 1 <= threads <= 64:
            raise wire.ProtocolError("threaded calls are not a list of (args, kwargs) with a thread count")
        start = threading.Barrier(min(threads, len(calls)))

        def one(call):
            args, kwargs = call
            try:
                start.wait(timeout=30)  # every thread starts its call together
            except threading.BrokenBarrierError:
                pass
            return self._run(op, args, kwargs)

        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            done = list(pool.map(one, calls))
        out: list = []
        answers = [failed if failed is not None else {"kind": "result", "value": self._value(y, header.get("limit"), out)}
                   for y, failed in done]
        self.reply({"kind": "threaded", "id": rid, "answers": answers}, out)

    def fetch(self, header):
        rid, handle = header.get("id"), header.get("handle")
        if handle not in self.kept:
            return self.reply({"kind": "gone", "id": rid})
        out: list = []
        self.reply({"kind": "fetched", "id": rid, "value": wire.encode(self.kept[handle], out, describe_unknown=True)}, out)

    def serve(self, channel: wire.Channel):
        while True:
            try:
                header, buffers = channel.recv()
            except wire.Closed:
                _os_exit(0)
            except OSError:  # the backend closed or replaced the request descriptor
                _os_exit(LOST_CHANNEL)
            kind = header.get("kind")
            if kind == "call":
                self.call(header, buffers)
            elif kind == "threads":
                self.threads(header, buffers)
            elif kind == "fetch":
                self.fetch(header)
            elif kind == "bye":
                _os_exit(0)
            else:
                raise wire.ProtocolError(f"unknown request {kind!r}")


def _prefer_me_when_memory_runs_out():
    """Ask the kernel's OOM killer to take this process first (the judge and the user's session
    stay): oom_score_adj 1000; a process may always raise its own."""
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass


def main(argv=None):
    parser = argparse.ArgumentParser(prog="convspec._engine.executor")
    parser.add_argument("--target", required=True)
    parser.add_argument("--request-fd", type=int, required=True)
    parser.add_argument("--reply-fd", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True, help="the judge's pid (0: in a sandbox, which ends with it)")
    parser.add_argument("--judge-root", default="", help="folder holding the judge's convspec (moved to the end of sys.path)")
    parser.add_argument("--module-path", default="", help="folder appended to sys.path for pkg.mod targets")
    parser.add_argument("--bundled", action="store_true")
    args = parser.parse_args(argv)
    if args.parent:
        die_with_parent(args.parent)
    _prefer_me_when_memory_runs_out()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the judge ends this process, not the terminal
    root = os.path.abspath(args.judge_root) if args.judge_root else ""
    if root and not args.bundled:
        sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != root] + [root]
    if args.module_path:
        sys.path.append(args.module_path)
    channel = wire.Channel(args.request_fd)  # made before the target runs: it owns its descriptor
    loaded, message = _load(args.target)
    reply = Server(None, args.reply_fd).reply
    if loaded is None:
        reply({"kind": "load-error", "message": message})
        _os_exit(0)
    obj, name = loaded
    hello = _hello(obj, name)
    reply(hello)
    if hello["kind"] != "hello":
        _os_exit(0)
    try:
        Server(obj, args.reply_fd).serve(channel)
    except wire.ProtocolError as e:  # the judge never sends these; leave a trace in the log
        print(f"convspec executor: bad request: {e}", file=sys.stderr)
        _os_exit(3)


if __name__ == "__main__":
    main()
