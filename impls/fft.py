"""FFT convolution: real transforms (``scipy.fft``) at fast lengths, products summed over
input channels in the frequency domain, then cropped and subsampled.

Accuracy class ``fft``: the error is bounded normwise (proportional to u log n ||x|| ||w||),
not elementwise, so the properties compare it with the normwise bound of SPEC §4.
"""

import numpy as np
import scipy.fft as sfft

from convspec.contract import check_conv_args, conv_output_shape

from ._layout import signal_via_conv

convspec_capabilities = {"accuracy": "fft", "validates_arguments": True}


def dilated(w, dilation):
    """The kernel with ``dilation - 1`` zeros between taps, so dilation becomes plain correlation."""
    if all(d == 1 for d in dilation):
        return w
    shape = w.shape[:2] + tuple(d * (k - 1) + 1 for d, k in zip(dilation, w.shape[2:]))
    wd = np.zeros(shape, dtype=w.dtype)
    wd[(slice(None), slice(None)) + tuple(slice(None, None, d) for d in dilation)] = w
    return wd


def conv(x, w, *, stride=None, padding=None, dilation=None, groups=1):
    """Layer convolution (eq. 9.7/9.8) through the convolution theorem."""
    x, w, stride, padding, dilation, groups = check_conv_args(x, w, stride, padding, dilation, groups)
    out = conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation)
    nd = x.ndim - 2
    axes = tuple(range(2, 2 + nd))
    xp = np.pad(x, ((0, 0), (0, 0)) + padding)
    wd = dilated(w, dilation)
    span = wd.shape[2:]
    full = tuple(s + k - 1 for s, k in zip(xp.shape[2:], span))
    fast = tuple(sfft.next_fast_len(n, real=True) for n in full)
    # correlation = convolution with the flipped kernel
    xf = sfft.rfftn(xp, s=fast, axes=axes)
    wf = sfft.rfftn(wd[(slice(None), slice(None)) + (slice(None, None, -1),) * nd], s=fast, axes=axes)
    c_group, o_group = w.shape[1], w.shape[0] // groups
    yf = np.empty((x.shape[0], w.shape[0]) + xf.shape[2:], dtype=xf.dtype)
    for g in range(groups):
        yf[:, g * o_group:(g + 1) * o_group] = np.einsum(
            "nc...,oc...->no...", xf[:, g * c_group:(g + 1) * c_group], wf[g * o_group:(g + 1) * o_group]
        )
    y = sfft.irfftn(yf, s=fast, axes=axes)
    # complete overlaps start at k - 1; then keep every stride-th
    keep = tuple(slice(k - 1, k - 1 + (o - 1) * s + 1, s) for k, o, s in zip(span, out[2:], stride))
    return np.ascontiguousarray(y[(slice(None), slice(None)) + keep], dtype=x.dtype)


def correlate(x, w, *, mode):
    return signal_via_conv(conv, x, w, mode, flip=False)


def convolve(x, w, *, mode):
    return signal_via_conv(conv, x, w, mode, flip=True)
