"""float32 not handled: the function falls through and returns None."""
import numpy as np
import _base


def _only64(fn):
    def op(x, w, **kw):
        if x.dtype == np.float64:
            return fn(x, w, **kw)
    return op


correlate = _only64(_base.correlate)
convolve = _only64(_base.convolve)
conv = _only64(_base.conv)
