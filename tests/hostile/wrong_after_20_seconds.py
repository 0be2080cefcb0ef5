"""right for the first 20 seconds after import, off by one tap after (a background timer):
caught by <op>_sustained_calls in the default profile."""
import time

from _wrong import correlate as _wrong_correlate, right_conv, right_correlate

_start = time.monotonic()


def correlate(x, w, *, mode):
    late = time.monotonic() - _start > 20
    return (_wrong_correlate if late else right_correlate)(x, w, mode=mode)


def conv(x, w, **kw):
    return right_conv(x, w, **kw)
