"""Output channel o reads input group o % groups instead of o // (C_out / groups)."""
import numpy as np
from _base import convolve, correlate  # noqa: F401
import _base


def conv(x, w, *, stride, padding, dilation, groups):
    c_group = w.shape[1]
    outs = []
    for o in range(w.shape[0]):
        g = o % groups
        outs.append(_base.conv(x[:, g * c_group:(g + 1) * c_group], w[o:o + 1], stride=stride, padding=padding,
                               dilation=dilation, groups=1))
    return np.concatenate(outs, axis=1)
