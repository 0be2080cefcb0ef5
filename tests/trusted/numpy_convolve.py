"""numpy.convolve / numpy.correlate (1-D only) as a convspec backend: a trusted implementation.

numpy's own 'same' is relative to the longer argument, so 'same' is cut from 'full' here at
(k - 1) // 2, the contract's convention.
"""
from convspec._bench.peers import numpy as _numpy  # numpy.correlate/convolve, 'same' cut as the contract says

convspec_capabilities = {"accuracy": "direct", "ndims": [1], "ops": ["correlate", "convolve"],
                         "dtypes": ["float32", "float64", "complex64", "complex128"]}


def _one_d(x, w):
    if x.ndim != 1 or w.ndim != 1:
        raise ValueError(f"x.ndim={x.ndim}, but this backend supports only 1-D")


def correlate(x, w, *, mode):
    _one_d(x, w)
    return _numpy.correlate(x, w, mode=mode)


def convolve(x, w, *, mode):
    _one_d(x, w)
    return _numpy.convolve(x, w, mode=mode)
