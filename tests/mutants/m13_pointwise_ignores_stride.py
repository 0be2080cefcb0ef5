"""A 1x1 fast path (one matmul over channels) that takes the first outputs instead of every stride-th."""
import numpy as np
from _base import convolve, correlate  # noqa: F401
import _base
from convspec._contract.functions import conv_output_shape


def conv(x, w, *, stride, padding, dilation, groups):
    if all(k == 1 for k in w.shape[2:]) and groups == 1:
        xp = np.pad(x, ((0, 0), (0, 0)) + tuple(padding))
        out = conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation)
        xs = xp[(Ellipsis,) + tuple(slice(0, o) for o in out[2:])]  # bug: should be slice(0, o * s, s)
        return np.einsum("nc...,oc->no...", xs, w.reshape(w.shape[:2])).astype(x.dtype)
    return _base.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
