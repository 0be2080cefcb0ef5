"""avg_pool with count_padding=True also counts the ceil-mode overhang past the declared padding."""
import numpy as np
from convspec._contract import reference
from convspec._contract.functions import pool_output_shape


def _declared_counts(x, window, stride, padding):
    """How many elements of each window lie inside the input plus its declared padding."""
    out = pool_output_shape(x.shape, window=window, stride=stride, padding=padding, ceil_mode=True)
    counts = np.ones(out[2:])
    for axis, (o, s, k, n, (a, b)) in enumerate(zip(out[2:], stride, window, x.shape[2:], padding)):
        starts = np.arange(o) * s - a
        shape = [1] * len(out[2:])
        shape[axis] = o
        counts = counts * (np.minimum(starts + k, n + b) - starts).reshape(shape)
    return counts


def avg_pool(x, *, window, stride, padding, ceil_mode=False, count_padding=False):
    y = reference.avg_pool(x, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode, count_padding=count_padding)
    if ceil_mode and count_padding:  # divide the sum by the whole window, overhang included
        y = y * _declared_counts(x, window, stride, padding) / np.prod(window)
    return y.astype(x.dtype)
