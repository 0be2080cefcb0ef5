"""A correct backend in a file named like a stdlib module."""
from convspec._contract import reference


def correlate(x, w, *, mode):
    return reference.correlate(x, w, mode=mode).astype(x.dtype)
