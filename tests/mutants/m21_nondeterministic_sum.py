"""Summation order depends on a random thread schedule: results differ in the last bits from call to call."""
import numpy as np
import _base

_rng = np.random.default_rng()


def _jitter(fn):
    def op(x, w, **kw):
        y = fn(x, w, **kw)
        wobble = _rng.integers(-1, 2, size=y.shape)
        up, down = np.nextafter(y, np.inf), np.nextafter(y, -np.inf)
        return np.where(wobble > 0, up, np.where(wobble < 0, down, y)).astype(x.dtype)
    return op


correlate = _jitter(_base.correlate)
convolve = _jitter(_base.convolve)
conv = _jitter(_base.conv)
