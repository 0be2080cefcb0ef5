"""max_pool pads with zeros instead of -inf: wrong where a window's input values are all negative."""
import numpy as np
from convspec._contract import reference


def max_pool(x, *, window, stride, padding, ceil_mode=False):
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(padding))
    return reference.max_pool(xp, window=window, stride=stride, padding=((0, 0),) * (x.ndim - 2),
                              ceil_mode=ceil_mode).astype(x.dtype)
