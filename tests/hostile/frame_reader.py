"""expect: fail -- returns the reference's answer read out of its callers' frames, else a wrong one."""
import sys

import numpy as np

from _wrong import conv as _conv
from _wrong import correlate as _correlate


def _peek(shape):
    frame = sys._getframe(1)
    while frame is not None:
        for value in frame.f_locals.values():
            if isinstance(value, np.ndarray) and value.shape == shape and value.dtype.kind == "f":
                return value
        frame = frame.f_back
    return None


def correlate(x, w, *, mode):
    y = _correlate(x, w, mode=mode)
    found = _peek(y.shape)
    return found.astype(x.dtype) if found is not None else y


def conv(x, w, **kw):
    y = _conv(x, w, **kw)
    found = _peek(y.shape)
    return found.astype(x.dtype) if found is not None else y
