"""tiled_conv picks kernel (i + 1) mod T instead of i mod T."""
import numpy as np
from convspec._contract import reference


def tiled_conv(x, w, *, stride, padding, bias=None):
    nd = x.ndim - 2
    w = np.roll(w, -1, axis=tuple(range(2 + nd, 2 + 2 * nd)))
    if bias is not None:
        bias = np.roll(bias, -1, axis=tuple(range(1, 1 + nd)))
    return reference.tiled_conv(x, w, stride=stride, padding=padding, bias=bias).astype(x.dtype)
