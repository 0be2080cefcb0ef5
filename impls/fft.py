"""FFT convolution: real transforms (``scipy.fft``) at fast lengths, products summed over
input channels in the frequency domain, then cropped and subsampled.

Accuracy class ``fft``: the error is bounded normwise (proportional to u log n ||x|| ||w||),
not elementwise, so the properties compare it with the normwise bound of SPEC §4.
"""

import numpy as np
import scipy.fft as sfft

from convspec.contract import check_conv_args, check_grad_args, conv_output_shape

from ._layout import add_bias, signal_via_conv

_NO_FFT = "not a linear shift-invariant filter: it has no convolution-theorem form"
convspec_capabilities = {
    "accuracy": "fft",
    "validates_arguments": True,
    "biases": True,
    "reasons": {op: _NO_FFT for op in ("max_pool", "lp_pool", "adaptive_max_pool", "local_conv", "tiled_conv")}
    | {op: "pooling is left to the direct backends" for op in ("avg_pool", "adaptive_avg_pool")},
}


def dilated(w, dilation):
    """The kernel with ``dilation - 1`` zeros between taps, so dilation becomes plain correlation."""
    if all(d == 1 for d in dilation):
        return w
    shape = w.shape[:2] + tuple(d * (k - 1) + 1 for d, k in zip(dilation, w.shape[2:]))
    wd = np.zeros(shape, dtype=w.dtype)
    wd[(slice(None), slice(None)) + tuple(slice(None, None, d) for d in dilation)] = w
    return wd


def conv(x, w, *, stride=None, padding=None, dilation=None, groups=1, bias=None):
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
    return add_bias(np.ascontiguousarray(y[(slice(None), slice(None)) + keep], dtype=x.dtype), bias)


def _upsampled(gy, stride):
    """``gy`` with ``stride - 1`` zeros between entries: the strided layer's outputs on the dense grid."""
    if all(s == 1 for s in stride):
        return gy
    up = np.zeros(gy.shape[:2] + tuple((o - 1) * s + 1 for o, s in zip(gy.shape[2:], stride)), dtype=gy.dtype)
    up[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)] = gy
    return up


def _spatial_flip(a):
    return a[(slice(None), slice(None)) + (slice(None, None, -1),) * (a.ndim - 2)]


def conv_grad_weight(gy, x, *, weight_shape, stride=None, padding=None, dilation=None, groups=1):
    """Eq. 9.11 as a correlation of the padded input with the upsampled ``gy``, summed over the
    batch in the frequency domain; the taps are read at lags ``j * dilation``."""
    gy, x, shape, stride, padding, dilation, groups = check_grad_args(gy, x, weight_shape, "weight_shape", stride, padding, dilation, groups)
    nd = x.ndim - 2
    axes = tuple(range(2, 2 + nd))
    xp = np.pad(x, ((0, 0), (0, 0)) + padding)
    up = _upsampled(gy, stride)
    fast = tuple(sfft.next_fast_len(p + u - 1, real=True) for p, u in zip(xp.shape[2:], up.shape[2:]))
    xf = sfft.rfftn(xp, s=fast, axes=axes)
    gf = sfft.rfftn(_spatial_flip(up), s=fast, axes=axes)
    c_group, o_group = shape[1], shape[0] // groups
    zf = np.concatenate([np.einsum("no...,nc...->oc...", gf[:, g * o_group:(g + 1) * o_group], xf[:, g * c_group:(g + 1) * c_group])
                         for g in range(groups)])
    z = sfft.irfftn(zf, s=fast, axes=axes)
    lags = tuple(slice(u - 1, u - 1 + d * (k - 1) + 1, d) for u, d, k in zip(up.shape[2:], dilation, shape[2:]))
    return np.ascontiguousarray(z[(slice(None), slice(None)) + lags], dtype=gy.dtype)


def conv_grad_input(gy, w, *, input_shape, stride=None, padding=None, dilation=None, groups=1):
    """Eq. 9.13 (the transposed convolution) as a full convolution of the upsampled ``gy`` with
    the dilated kernel, summed over output channels in the frequency domain, then cropped."""
    gy, w, shape, stride, padding, dilation, groups = check_grad_args(gy, w, input_shape, "input_shape", stride, padding, dilation, groups)
    nd = gy.ndim - 2
    axes = tuple(range(2, 2 + nd))
    up = _upsampled(gy, stride)
    wd = dilated(w, dilation)
    padded = tuple(s + a + b for s, (a, b) in zip(shape[2:], padding))
    fast = tuple(sfft.next_fast_len(max(p, u + k - 1), real=True) for p, u, k in zip(padded, up.shape[2:], wd.shape[2:]))
    uf = sfft.rfftn(up, s=fast, axes=axes)
    wf = sfft.rfftn(wd, s=fast, axes=axes)
    o_group = w.shape[0] // groups
    zf = np.concatenate([np.einsum("no...,oc...->nc...", uf[:, g * o_group:(g + 1) * o_group], wf[g * o_group:(g + 1) * o_group])
                         for g in range(groups)], axis=1)
    z = sfft.irfftn(zf, s=fast, axes=axes)
    # positions past the last window received nothing: they are zero in z (fast >= padded)
    keep = tuple(slice(a, a + s) for s, (a, _) in zip(shape[2:], padding))
    return np.ascontiguousarray(z[(slice(None), slice(None)) + keep], dtype=gy.dtype)


def correlate(x, w, *, mode):
    return signal_via_conv(conv, x, w, mode, flip=False)


def convolve(x, w, *, mode):
    return signal_via_conv(conv, x, w, mode, flip=True)
