"""A judge process: checks one target for the command line (docs/explanation/isolation.md).

Started by :func:`convspec._engine.judges.check` as ``python -P -m convspec._engine.judge JOB``, where JOB is
plain JSON (target, label, property names, profile, seed, import limit).  It draws every
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
import signal
import sys

from convspec._engine import wire
from convspec._engine.processes import die_with_parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="convspec._engine.judge")
    parser.add_argument("job", help="the job as JSON")
    parser.add_argument("--reply-fd", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True)
    args = parser.parse_args(argv)
    die_with_parent(args.parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the command line decides when to stop

    def stop(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    job = json.loads(args.job)

    def send(header):
        wire.send(args.reply_fd, header)

    from convspec._engine.backend import LoadError
    from convspec._catalogue import get
    from convspec._engine.remote import RemoteBackend
    from convspec._engine.runner import Profile, run_property

    try:
        try:
            backend = RemoteBackend(job["target"], label=job["label"], import_timeout=job["import_timeout"],
                                    on_spawn=lambda pgid: send({"kind": "executor", "pgid": pgid}))
        except LoadError as e:
            send({"kind": "load-error", "message": str(e)})
            return 0
        try:
            send({"kind": "loaded", "name": backend.own_name, "label": backend.name, "target": backend.target,
                  "ops": list(backend.ops), "capabilities": backend.capabilities.as_json(), "doc": backend.doc})
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
        # the work is over: the command line stops a judge as soon as it has said all, and a
        # SIGTERM raising SystemExit inside the interpreter's shutdown (threading's) printed a
        # traceback on the user's terminal; from here SIGTERM ends the process quietly
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


if __name__ == "__main__":
    sys.exit(main())
