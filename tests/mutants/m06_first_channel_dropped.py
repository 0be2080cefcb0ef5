"""The channel loop starts at 1: input channel 0 of each group is ignored (when there are two or more)."""
import numpy as np
from _base import convolve, correlate  # noqa: F401
import _base


def conv(x, w, *, stride, padding, dilation, groups):
    if w.shape[1] > 1:
        keep = np.ones(x.shape[1], dtype=bool)
        keep[::w.shape[1]] = False
        x = x[:, keep]
        w = w[:, 1:]
    return _base.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
