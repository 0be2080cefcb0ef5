"""correlate processes long 1-D signals in blocks of 4096 outputs and forgets the last, partial block."""
import numpy as np
from convspec._contract import reference

BLOCK = 4096


def correlate(x, w, *, mode):
    y = reference.correlate(x, w, mode=mode).astype(x.dtype)
    if y.ndim == 1 and y.size > BLOCK and y.size % BLOCK:
        y[y.size - y.size % BLOCK:] = 0
    return y

