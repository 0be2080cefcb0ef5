"""Input channels processed in blocks of 8; the remainder block is dropped when C_in/groups > 8."""
import numpy as np
from _base import convolve, correlate  # noqa: F401
import _base


def conv(x, w, *, stride, padding, dilation, groups):
    c = w.shape[1]
    if c > 8 and c % 8:
        keep = c - c % 8
        x = np.concatenate([x[:, g * c:g * c + keep] for g in range(groups)], axis=1)
        w = w[:, :keep]
    return _base.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
