"""Depthwise path (groups = C_in) maps output channel o to input o % C_in: wrong with a channel multiplier > 1."""
import numpy as np
from _base import convolve, correlate  # noqa: F401
import _base


def conv(x, w, *, stride, padding, dilation, groups):
    if groups > 1 and groups == x.shape[1] and w.shape[0] > groups:
        outs = [_base.conv(x[:, o % groups:o % groups + 1], w[o:o + 1], stride=stride, padding=padding, dilation=dilation, groups=1)
                for o in range(w.shape[0])]
        return np.concatenate(outs, axis=1)
    return _base.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
