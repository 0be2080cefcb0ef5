"""convolve flips the kernel in place (the result is right; the caller's kernel is now reversed)."""
from _base import conv, correlate  # noqa: F401


def convolve(x, w, *, mode):
    w[...] = w[(slice(None, None, -1),) * w.ndim].copy()
    return correlate(x, w, mode=mode)
