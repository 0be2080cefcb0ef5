"""A declared FFT backend whose float64 transforms are done in complex64."""
import numpy as np
import scipy.fft as sfft
from convspec._contract.functions import same_offset

convspec_capabilities = {"accuracy": "fft", "ops": ["correlate", "convolve"]}


def convolve(x, w, *, mode):
    n = tuple(m + k - 1 for m, k in zip(x.shape, w.shape))
    y = sfft.irfftn(sfft.rfftn(x.astype(np.float32), s=n) * sfft.rfftn(w.astype(np.float32), s=n), s=n)
    if mode == "valid":
        y = y[tuple(slice(k - 1, m) for m, k in zip(x.shape, w.shape))]
    elif mode == "same":
        y = y[tuple(slice(same_offset(k), same_offset(k) + m) for m, k in zip(x.shape, w.shape))]
    return np.ascontiguousarray(y, dtype=x.dtype)


def correlate(x, w, *, mode):
    return convolve(x, w[(slice(None, None, -1),) * w.ndim], mode=mode)
