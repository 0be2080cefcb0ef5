"""expect: fail -- returns a structured array holding the right values in a field."""
import numpy as np

from convspec._contract import reference


def _boxed(y, dtype):
    out = np.zeros(y.shape, dtype=[("value", dtype)])
    out["value"] = y
    return out


def correlate(x, w, *, mode):
    return _boxed(reference.correlate(x, w, mode=mode), x.dtype)


def conv(x, w, **kw):
    return _boxed(reference.conv(x, w, **kw), x.dtype)
