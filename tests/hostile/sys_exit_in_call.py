"""expect: fail -- right values for small inputs, sys.exit(0) for larger ones."""
import sys

from _wrong import right_conv, right_correlate


def correlate(x, w, *, mode):
    if x.size > 2:
        sys.exit(0)
    return right_correlate(x, w, mode=mode)


def conv(x, w, **kw):
    if x.size > 2:
        sys.exit(0)
    return right_conv(x, w, **kw)
