"""Dilation honoured on the last spatial axis only; output zero-filled or cut to the expected size."""
import numpy as np
from _base import convolve, correlate  # noqa: F401
import _base
from convspec.contract import conv_output_shape


def conv(x, w, *, stride, padding, dilation, groups):
    out = np.zeros(conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation), dtype=x.dtype)
    y = _base.conv(x, w, stride=stride, padding=padding, dilation=(1,) * (len(dilation) - 1) + tuple(dilation[-1:]), groups=groups)
    cut = tuple(slice(0, min(a, b)) for a, b in zip(out.shape, y.shape))
    out[cut] = y[cut]
    return out
