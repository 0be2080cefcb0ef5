"""Padding filled by wrapping the input around (circular) instead of with zeros."""
import numpy as np
from _base import convolve, correlate  # noqa: F401
import _base


def conv(x, w, *, stride, padding, dilation, groups):
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(padding), mode="wrap")
    return _base.conv(xp, w, stride=stride, padding=((0, 0),) * (x.ndim - 2), dilation=dilation, groups=groups)
