"""convolve forgets to flip the kernel (computes correlation)."""
from _base import conv, correlate  # noqa: F401


def convolve(x, w, *, mode):
    return correlate(x, w, mode=mode)
