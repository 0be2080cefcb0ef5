"""The living definition: a loop over output positions, each one the sum in the book.

Deliberately dumb.  Every output position is computed on its own as the sum of the products
of the kernel taps with the input values under them (eq. 9.4, 9.6, 9.7, 9.8): the window of
the input that the position sees is cut out and multiplied by the kernel.  No FFTs, no
unrolling into matrices, no caching, so it cannot share a bug with a clever backend.
"""

import itertools

import numpy as np

from convspec.contract import (
    check_conv_args,
    check_signal_args,
    conv_output_shape,
    same_offset,
    signal_output_shape,
)

convspec_capabilities = {"accuracy": "direct", "validates_arguments": True}


def _overlap(f, m, k):
    """Input range ``[lo, hi)`` and kernel range that overlap at full-output index ``f``.

    At full index ``f`` (``0 <= f < m + k - 1``) correlation pairs ``x[f - (k-1) + j]`` with
    ``w[j]``; only the ``j`` that land inside ``x`` contribute.
    """
    lo, hi = max(0, f - (k - 1)), min(m, f + 1)
    return slice(lo, hi), slice(lo - f + k - 1, hi - f + k - 1)


def _signal(x, w, mode, kernel):
    out = signal_output_shape(x.shape, w.shape, mode)
    start = {"full": [0] * w.ndim, "same": [same_offset(k) for k in w.shape], "valid": [k - 1 for k in w.shape]}[mode]
    y = np.zeros(out, dtype=x.dtype)
    for i in itertools.product(*(range(n) for n in out)):
        cuts = [_overlap(ii + s, m, k) for ii, s, m, k in zip(i, start, x.shape, w.shape)]
        y[i] = np.sum(x[tuple(c[0] for c in cuts)] * kernel[tuple(c[1] for c in cuts)])
    return y


def correlate(x, w, *, mode):
    """Cross-correlation (eq. 9.6) ``S(i) = sum_j I(i + j) K(j)``, cut to ``mode``."""
    x, w = check_signal_args(x, w, mode)
    return _signal(x, w, mode, w)


def convolve(x, w, *, mode):
    """Convolution (eq. 9.4) ``S(i) = sum_j I(i - j) K(j)``: input index up, kernel index down."""
    x, w = check_signal_args(x, w, mode)
    return _signal(x, w, mode, w[(slice(None, None, -1),) * w.ndim])


def conv(x, w, *, stride=None, padding=None, dilation=None, groups=1):
    """Multichannel cross-correlation (eq. 9.7) sampled every ``stride`` (eq. 9.8).

    ``Z[n, o, i] = sum_{c, j} V[n, g*Cg + c, i*stride + j*dilation - before] K[o, c, j]``
    where ``g`` is the group of output channel ``o`` and ``V`` is zero outside the input.
    """
    x, w, stride, padding, dilation, groups = check_conv_args(x, w, stride, padding, dilation, groups)
    out = conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation)
    v = np.pad(x, ((0, 0), (0, 0)) + padding)  # V with its zeros made explicit
    y = np.zeros(out, dtype=x.dtype)
    c_group, o_group = w.shape[1], w.shape[0] // groups
    for g in range(groups):
        kernel = w[g * o_group:(g + 1) * o_group]
        for i in itertools.product(*(range(s) for s in out[2:])):
            window = tuple(
                slice(ii * s, ii * s + d * (k - 1) + 1, d)
                for ii, s, d, k in zip(i, stride, dilation, w.shape[2:])
            )
            seen = v[(slice(None), slice(g * c_group, (g + 1) * c_group)) + window]
            # sum over input channel and every kernel tap, for each batch item and output channel
            y[(slice(None), slice(g * o_group, (g + 1) * o_group)) + i] = np.tensordot(
                seen, kernel, axes=(list(range(1, seen.ndim)), list(range(1, kernel.ndim)))
            )
    return y
