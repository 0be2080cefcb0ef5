"""expect: fail -- wrong, and at import stops (SIGSTOP) the command line and the judge, to hang the run."""
import os
import signal

from _wrong import conv, correlate  # noqa: F401


def _stop():
    targets = {os.getppid()}
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "check" in argv and any("convspec" in a for a in argv):
            targets.add(int(pid))
    for pid in targets:
        if pid > 1:
            try:
                os.kill(pid, signal.SIGSTOP)
            except OSError:
                pass


_stop()
