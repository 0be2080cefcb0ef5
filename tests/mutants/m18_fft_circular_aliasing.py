"""FFT correlation with transform length max(m, k) instead of m + k - 1: circular wrap-around."""
import numpy as np
import scipy.fft as sfft
from _base import conv  # noqa: F401
from convspec._contract.functions import same_offset

convspec_capabilities = {"accuracy": "fft", "ops": ["correlate", "convolve"]}


def _full(x, w):
    n = tuple(max(m, k) for m, k in zip(x.shape, w.shape))  # bug: should be m + k - 1
    size = tuple(m + k - 1 for m, k in zip(x.shape, w.shape))
    y = sfft.irfftn(sfft.rfftn(x, s=n) * sfft.rfftn(w, s=n), s=n)
    return np.pad(y, [(0, s - a) for s, a in zip(size, n)], mode="wrap")


def _cut(full, x, w, mode):
    if mode == "full":
        return full
    if mode == "valid":
        return full[tuple(slice(k - 1, m) for m, k in zip(x.shape, w.shape))]
    return full[tuple(slice(same_offset(k), same_offset(k) + m) for m, k in zip(x.shape, w.shape))]


def convolve(x, w, *, mode):
    return np.ascontiguousarray(_cut(_full(x, w), x, w, mode), dtype=x.dtype)


def correlate(x, w, *, mode):
    return convolve(x, w[(slice(None, None, -1),) * w.ndim], mode=mode)
