"""SciPy's ``scipy.signal`` (direct method) as a convspec backend.

``correlate``/``convolve`` are scipy.signal's own.  The layer is built from its single-channel
correlations, translating conventions only: zero padding with NumPy, dilation by spreading the
kernel's taps over zeros, stride by sampling, a sum over each group's input channels.
"""
import numpy as np
import scipy.signal

convspec_capabilities = {"ops": ["correlate", "convolve", "conv"], "accuracy": "direct",
                         # complex signals: scipy.signal conjugates correlate's kernel, as the contract does
                         "dtypes": {"correlate": ["float32", "float64", "complex64", "complex128"],
                                    "convolve": ["float32", "float64", "complex64", "complex128"],
                                    "*": ["float32", "float64"]}}


def correlate(x, w, *, mode):
    return scipy.signal.correlate(x, w, mode=mode, method="direct")


def convolve(x, w, *, mode):
    return scipy.signal.convolve(x, w, mode=mode, method="direct")


def conv(x, w, *, stride, padding, dilation, groups):
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(padding))
    wd = np.zeros(w.shape[:2] + tuple(d * (k - 1) + 1 for d, k in zip(dilation, w.shape[2:])), dtype=w.dtype)
    wd[(slice(None), slice(None)) + tuple(slice(None, None, d) for d in dilation)] = w
    c_group, o_group = w.shape[1], w.shape[0] // groups
    sample = tuple(slice(None, None, s) for s in stride)
    y = [[sum(scipy.signal.correlate(xp[n, (o // o_group) * c_group + c], wd[o, c], mode="valid", method="direct")
              for c in range(c_group))[sample] for o in range(w.shape[0])] for n in range(x.shape[0])]
    return np.asarray(y, dtype=x.dtype)
