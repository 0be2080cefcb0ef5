"""Reads x.base when x is a view (as C code taking the owner's data pointer would)."""
import numpy as np
import _base


def _owner(a):
    b = a.base
    if isinstance(b, np.ndarray) and b.size == a.size and b.dtype == a.dtype:
        return b.reshape(a.shape)
    return a


def correlate(x, w, *, mode):
    return _base.correlate(_owner(x), _owner(w), mode=mode)


def convolve(x, w, *, mode):
    return _base.convolve(_owner(x), _owner(w), mode=mode)


def conv(x, w, **kw):
    return _base.conv(_owner(x), _owner(w), **kw)
