"""A judge process: checks one target for the command line (docs/explanation/isolation.md).

Started by :func:`convspec._engine.judges.check` as ``python -P -m convspec._engine.judge --job-fd N``;
the job comes on that inherited descriptor, never on the command line (which every process of
the machine can read): a key for sealing the replies (:class:`convspec._engine.wire.Signer`),
then plain JSON (target, label, property names, profile, seed, limits).  It draws every
example, computes the reference, compares and decides; the target's code runs only in the
executor it starts (:class:`~convspec._engine.remote.RemoteBackend`).  It reports to the command line
on the reply descriptor, in :mod:`convspec._engine.wire` frames:

* ``executor`` -- the process group id of each executor it starts (so the command line can
  kill it even if this judge is killed first);
* ``loaded`` (name, functions, declaration, docstring) or ``load-error`` (message);
* ``result`` -- one property's :class:`~convspec._engine.runner.Result`, as it completes;
* ``done``.

SIGTERM ends it after killing its executor; it dies with the command line (Linux
``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time

from convspec._engine import wire
from convspec._engine.processes import adopt_orphans, die_with_parent, forbid_inspection, kill_descendants, state_of


def _keep_parent_running(parent: int) -> None:
    """While this judge runs, its command line must too: a backend that stops it (SIGSTOP) would
    hang the run.  A terminal's stop (Ctrl-Z) stops this judge as well, so a command line found
    stopped while the judge runs was stopped by something else, and is continued."""
    def watch():
        while True:
            time.sleep(0.5)
            if state_of(parent) == "T":
                try:
                    os.kill(parent, signal.SIGCONT)
                except OSError:
                    return

    threading.Thread(target=watch, daemon=True, name="convspec-watch-parent").start()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="convspec._engine.judge")
    parser.add_argument("--job-fd", type=int, required=True, help="descriptor to read the key and the job from")
    parser.add_argument("--reply-fd", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True)
    args = parser.parse_args(argv)
    die_with_parent(args.parent)
    forbid_inspection()  # another process of the user cannot read its memory or open its descriptors
    adopt_orphans()  # what the executor starts and leaves is re-parented here, and killed at the end
    _keep_parent_running(args.parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the command line decides when to stop

    def stop(signum, _frame):
        # at once and quietly: raising here could land inside any library's callback (printed as
        # "Exception ignored"); what this judge started goes with it
        kill_descendants()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    with os.fdopen(args.job_fd, "rb") as f:
        key, _, text = f.read().partition(b"\n")
    job = json.loads(text)
    signer = wire.Signer(bytes.fromhex(key.decode()))

    def send(header):
        wire.send(args.reply_fd, signer.sign(header))

    from convspec._engine.backend import LoadError
    from convspec._catalogue import get
    from convspec._engine.remote import RemoteBackend
    from convspec._engine.runner import Profile, run_property

    try:
        try:
            backend = RemoteBackend(job["target"], label=job["label"], import_timeout=job["import_timeout"],
                                    on_spawn=lambda pgid: send({"kind": "executor", "pgid": pgid}),
                                    sandbox=job.get("sandbox"), memory_limit=job.get("memory_limit"))
        except LoadError as e:
            send({"kind": "load-error", "message": str(e)})
            return 0
        try:
            send({"kind": "loaded", "name": backend.own_name, "label": backend.name, "target": backend.target,
                  "ops": list(backend.ops), "capabilities": backend.capabilities.as_json(), "doc": backend.doc,
                  "sandbox": backend.sandbox, "memory_limit": backend.memory_limit})
            profile = Profile(**job["profile"])
            for name in job["properties"]:
                result = run_property(get(name), backend, profile=profile, seed=job["seed"],
                                      examples=job.get("examples"), database=job.get("database"),
                                      catalogue=job.get("catalogue"))
                send({"kind": "result", "result": result.to_json()})
            send({"kind": "done"})
        finally:
            backend.close()
        return 0
    finally:
        kill_descendants()  # anything the executor started and left (a daemon): nothing outlives the judging
        # the work is over: the command line stops a judge as soon as it has said all; from here
        # SIGTERM just ends the process (its descendants are gone already)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


if __name__ == "__main__":
    sys.exit(main())
