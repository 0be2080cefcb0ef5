"""Products accumulated in an integer register (truncating fractions), as a fixed-point kernel with the scale dropped."""
import numpy as np
import _base


def _truncating(fn):
    def op(x, w, **kw):
        return np.trunc(fn(x, w, **kw)).astype(x.dtype)
    return op


correlate = _truncating(_base.correlate)
convolve = _truncating(_base.convolve)
conv = _truncating(_base.conv)
