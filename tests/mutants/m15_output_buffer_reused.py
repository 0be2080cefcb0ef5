"""One output buffer per shape, reused by every call: earlier results are overwritten."""
import numpy as np
import _base

_buffers = {}


def _reusing(name, fn):
    def op(x, w, **kw):
        y = fn(x, w, **kw)
        buf = _buffers.setdefault((name, y.shape, y.dtype.str), np.empty_like(y))
        buf[...] = y
        return buf
    return op


correlate = _reusing("correlate", _base.correlate)
convolve = _reusing("convolve", _base.convolve)
conv = _reusing("conv", _base.conv)
