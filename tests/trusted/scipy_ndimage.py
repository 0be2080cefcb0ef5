"""scipy.ndimage.correlate / convolve as a convspec backend: a trusted implementation.

ndimage keeps the input size and centres the kernel at k // 2 (shifted by ``origin``);
'full' is computed on the input padded by k - 1 zeros and the contract's modes cut from it.
"""
import numpy as np
import scipy.ndimage

convspec_capabilities = {"accuracy": "direct", "ops": ["correlate", "convolve"]}


def _full(fn, x, w):
    xp = np.pad(x, [(k - 1, k - 1) for k in w.shape])
    # output[i] = sum_j xp[i + j - k // 2 - origin] w[j]; origin -(k // 2) makes it start at i
    y = fn(xp, w, mode="constant", cval=0.0, origin=[-(k // 2) for k in w.shape])
    return y[tuple(slice(0, m + k - 1) for m, k in zip(x.shape, w.shape))]


def _cut(full, x, w, mode):
    start = {"full": [0] * w.ndim, "same": [(k - 1) // 2 for k in w.shape], "valid": [k - 1 for k in w.shape]}[mode]
    size = {"full": [m + k - 1 for m, k in zip(x.shape, w.shape)], "same": list(x.shape),
            "valid": [m - k + 1 for m, k in zip(x.shape, w.shape)]}[mode]
    return full[tuple(slice(s, s + n) for s, n in zip(start, size))]


def correlate(x, w, *, mode):
    return _cut(_full(scipy.ndimage.correlate, x, w), x, w, mode)


def convolve(x, w, *, mode):
    # ndimage.convolve flips the kernel and mirrors the origin; correlate with the flipped kernel instead
    return correlate(x, np.ascontiguousarray(w[(slice(None, None, -1),) * w.ndim]), mode=mode)
