"""local_conv reads the weights of location (i, j) from (j, i) in 2-D (row/column swapped) when the output is square."""
import numpy as np
from convspec._contract import reference


def local_conv(x, w, *, stride, padding, bias=None):
    if x.ndim == 4 and w.shape[1] == w.shape[2]:
        w = np.ascontiguousarray(w.swapaxes(1, 2))
    return reference.local_conv(x, w, stride=stride, padding=padding, bias=bias).astype(x.dtype)
