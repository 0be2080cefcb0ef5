"""Models of the arithmetic low-precision kernels use (docs/explanation/accuracy.md, low precision):
what ``accumulate: "storage"`` and ``products: "tf32"`` declare, written plainly, so a
declaration can be checked against a kernel that really computes that way (and a kernel that
computes that way without declaring it can be seen to fail).

* :func:`round_tf32` -- float32 values rounded to TF32 (10 stored significand bits, round to
  nearest even), as tensor cores read float32 inputs;
* :func:`conv_in_storage` -- the layer summed in the input dtype: every product and every
  partial sum rounded to float16/bfloat16, one tap at a time.
"""

from __future__ import annotations

import itertools

import numpy as np

from convspec._contract.functions import conv_output_shape


def round_tf32(a) -> np.ndarray:
    """``a`` (float32) with its significand rounded to 10 bits, to nearest, ties to even."""
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    half = np.uint64(1 << 12)
    odd = (bits >> np.uint64(13)) & np.uint64(1)
    rounded = ((bits + half - np.uint64(1) + odd) >> np.uint64(13)) << np.uint64(13)
    finite = np.isfinite(np.asarray(a, dtype=np.float32))
    return np.where(finite, rounded.astype(np.uint32).view(np.float32), a).astype(np.float32)


def conv_in_storage(x, w, *, stride, padding, dilation, groups):
    """``conv`` (eq. 9.7/9.8) with every product and partial sum rounded to ``x.dtype``: the
    arithmetic of ``accumulate: "storage"`` (NumPy's float16 and ml_dtypes' bfloat16 compute
    each operation in float32 and round it once).  The terms of every output are added one at
    a time, input channel by channel and tap by tap, all outputs of a group at once."""
    dtype = x.dtype
    out = conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation)
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(padding))
    y = np.zeros(out, dtype=dtype)
    c_group, o_group = w.shape[1], w.shape[0] // groups
    for g in range(groups):
        outs = slice(g * o_group, (g + 1) * o_group)
        for c in range(c_group):
            for j in itertools.product(*(range(k) for k in w.shape[2:])):
                taps = xp[(slice(None), g * c_group + c) + tuple(slice(jj * d, jj * d + (n - 1) * s + 1, s)
                                                                 for jj, d, n, s in zip(j, dilation, out[2:], stride))]
                weights = w[(outs, c) + j].reshape((1, -1) + (1,) * (x.ndim - 2))  # over (N, C_out of g, *O)
                term = (taps[:, None] * weights).astype(dtype)
                y[:, outs] = (y[:, outs] + term).astype(dtype)
    return y
