"""The executor: the only process that imports and runs a target's code (docs/explanation/isolation.md).

Started by the judge (:mod:`convspec._engine.remote`) as ``python -P -m convspec._engine.executor``, in a
session and process group of its own, with the target's folder alone on ``sys.path``.  It
imports the target, answers ``hello`` with the target's name, functions and declaration,
then serves requests read from stdin and answers on the reply descriptor, both in the
plain-data protocol of :mod:`convspec._engine.wire`:

* ``call`` -- rebuild the arguments (in the judge's memory layouts), call the function, and
  send back the result (or the exception described), which inputs it wrote into (with their
  new contents), and whether its memory is shared with an input or an earlier result;
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
import os
import signal
import sys
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
        _send(self.reply_fd, header, buffers)

    def call(self, header, buffers):
        cid, op = header.get("id"), header.get("op")
        args = wire.decode(header.get("args"), buffers, rebuild_layouts=True)
        kwargs = wire.decode(header.get("kwargs"), buffers)
        if not isinstance(args, tuple) or not isinstance(kwargs, dict):
            raise wire.ProtocolError("call arguments are not a tuple and a dict")
        arrays = [(i, a, base_of(a)) for i, a in enumerate(args) if isinstance(a, _ndarray)]
        before = [_tobytes(b, order="A") for _, _, b in arrays]
        try:
            fn = getattr(self.obj, op)
            y = fn(*args, **kwargs)
        except SystemExit as e:
            return self.reply({"kind": "exit", "id": cid, "code": wire.safe_repr(e.code)})
        except BaseException as e:
            return self.reply(dict(_raised(e), id=cid))
        out: list = []
        value = wire.encode(y, out, describe_unknown=True)
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
            kind = header.get("kind")
            if kind == "call":
                self.call(header, buffers)
            elif kind == "fetch":
                self.fetch(header)
            elif kind == "bye":
                _os_exit(0)
            else:
                raise wire.ProtocolError(f"unknown request {kind!r}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="convspec._engine.executor")
    parser.add_argument("--target", required=True)
    parser.add_argument("--reply-fd", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--judge-root", default="", help="folder holding the judge's convspec (moved to the end of sys.path)")
    parser.add_argument("--module-path", default="", help="folder appended to sys.path for pkg.mod targets")
    parser.add_argument("--bundled", action="store_true")
    args = parser.parse_args(argv)
    die_with_parent(args.parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the judge ends this process, not the terminal
    root = os.path.abspath(args.judge_root) if args.judge_root else ""
    if root and not args.bundled:
        sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != root] + [root]
    if args.module_path:
        sys.path.append(args.module_path)
    loaded, message = _load(args.target)
    if loaded is None:
        _send(args.reply_fd, {"kind": "load-error", "message": message})
        _os_exit(0)
    obj, name = loaded
    hello = _hello(obj, name)
    _send(args.reply_fd, hello)
    if hello["kind"] != "hello":
        _os_exit(0)
    try:
        Server(obj, args.reply_fd).serve(wire.Channel(0))
    except wire.ProtocolError as e:  # the judge never sends these; leave a trace in the log
        print(f"convspec executor: bad request: {e}", file=sys.stderr)
        _os_exit(3)


if __name__ == "__main__":
    main()
