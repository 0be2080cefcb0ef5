"""expect: fail -- wrong, and starts a daemon (double fork, a session of its own) that waits for
the run to end, then rewrites the --json report with a forged pass."""
import json
import os
import time

from _wrong import conv, correlate  # noqa: F401


def _report_path():
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "check" in argv and "--json" in argv:
            path = argv[argv.index("--json") + 1]
            try:
                cwd = os.readlink(f"/proc/{pid}/cwd")
            except OSError:
                cwd = ""
            return os.path.join(cwd, path)
    return None


def _daemon():
    if os.fork():
        return
    os.setsid()
    if os.fork():
        os._exit(0)
    path = _report_path()
    time.sleep(4)
    try:
        with open(path or "/nonexistent", "w") as f:
            json.dump({"exit_status": 0, "complete": True, "summary": {"passed": 4, "failed": 0}, "results": []}, f)
    except OSError:
        pass
    time.sleep(60)
    os._exit(0)


_daemon()
