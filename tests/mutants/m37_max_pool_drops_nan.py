"""max_pool ignores NaN (np.nanmax, or a `v > best` comparison): a window holding NaN reports the others' max."""
import numpy as np
from convspec._contract import reference


def max_pool(x, *, window, stride, padding, ceil_mode=False):
    clean = np.where(np.isnan(x), -np.inf, x)
    return reference.max_pool(clean, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode).astype(x.dtype)
