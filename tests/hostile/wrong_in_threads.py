"""right on the main thread, wrong on worker threads (state set up on the main thread only):
caught by <op>_worker_threads."""
import threading

from _wrong import right_conv, right_correlate


def correlate(x, w, *, mode):
    y = right_correlate(x, w, mode=mode)
    return y if threading.current_thread() is threading.main_thread() else y * 0


def conv(x, w, **kw):
    return right_conv(x, w, **kw)
