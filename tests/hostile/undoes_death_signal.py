"""expect: fail -- wrong, and at import clears its own death signal (PR_SET_PDEATHSIG 0), then
kills the command line's process group, to live on after the run."""
import ctypes
import os
import signal

from _wrong import conv, correlate  # noqa: F401


def _escape():
    try:
        ctypes.CDLL(None).prctl(1, 0, 0, 0, 0)
    except OSError:
        pass
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "convspec" in argv and "check" in argv:
            try:
                os.killpg(os.getpgid(int(pid)), signal.SIGKILL)
            except OSError:
                pass


_escape()
