"""Every batch item computed from item 0 (a pointer never advanced past the first image)."""
import numpy as np
from _base import convolve, correlate  # noqa: F401
import _base


def conv(x, w, **kw):
    y = _base.conv(x[:1], w, **kw)
    return np.ascontiguousarray(np.repeat(y, x.shape[0], axis=0))
