"""expect: pass -- correct, but starts a long-lived child process at import and in every call."""
import os
import subprocess
import sys

from _wrong import right_conv, right_correlate


def _child():
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)",
                      os.environ.get("CONVSPEC_HOSTILE_MARK", "convspec-hostile-child")])


_child()


def correlate(x, w, *, mode):
    _child()
    return right_correlate(x, w, mode=mode)


def conv(x, w, **kw):
    return right_conv(x, w, **kw)
