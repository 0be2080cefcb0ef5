"""Dilation and stride swapped when both are given (the output size is right when they are equal)."""
from _base import convolve, correlate  # noqa: F401
import numpy as np
import _base
from convspec.contract import conv_output_shape


def conv(x, w, *, stride, padding, dilation, groups):
    out = np.zeros(conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation), dtype=x.dtype)
    try:
        y = _base.conv(x, w, stride=dilation, padding=padding, dilation=stride, groups=groups)
    except ValueError:
        return out
    cut = tuple(slice(0, min(a, b)) for a, b in zip(out.shape, y.shape))
    out[cut] = y[cut]
    return out
