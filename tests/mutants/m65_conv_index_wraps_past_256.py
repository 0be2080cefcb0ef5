"""conv keeps output positions in an 8-bit index: on an axis longer than 256 outputs, position i is written at i mod 256."""
import numpy as np
from convspec._contract import reference


def conv(x, w, *, stride, padding, dilation, groups):
    y = reference.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups).astype(x.dtype)
    out = np.zeros_like(y)
    for axis in range(2, y.ndim):
        if y.shape[axis] > 256:
            index = np.arange(y.shape[axis]) % 256
            y = np.take(y, index, axis=axis)
    out[...] = y
    return out
