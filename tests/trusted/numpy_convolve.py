"""numpy.convolve / numpy.correlate (1-D only) as a convspec backend: a trusted implementation.

numpy's own 'same' is relative to the longer argument, so 'same' is cut from 'full' here at
(k - 1) // 2, the contract's convention.
"""
import numpy as np

convspec_capabilities = {"accuracy": "direct", "ndims": [1], "ops": ["correlate", "convolve"],
                         "dtypes": ["float32", "float64", "complex64", "complex128"]}


def _cut(full, m, k, mode):
    start = {"full": 0, "same": (k - 1) // 2, "valid": k - 1}[mode]
    return full[start:start + {"full": m + k - 1, "same": m, "valid": m - k + 1}[mode]]


def _one_d(x, w):
    if x.ndim != 1 or w.ndim != 1:
        raise ValueError(f"x.ndim={x.ndim}, but this backend supports only 1-D")


def correlate(x, w, *, mode):
    _one_d(x, w)
    return _cut(np.correlate(x, w, mode="full"), x.size, w.size, mode)


def convolve(x, w, *, mode):
    _one_d(x, w)
    return _cut(np.convolve(x, w, mode="full"), x.size, w.size, mode)
