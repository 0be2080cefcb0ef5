"""FFT convolution: real transforms (``scipy.fft``) at fast lengths, products summed over
input channels in the frequency domain, then cropped and subsampled.

Accuracy class ``fft``: the error is bounded normwise (proportional to u log n ||x|| ||w||),
not elementwise, so the properties compare it with the normwise bound (docs/explanation/accuracy.md).
"""

import math

import numpy as np
import scipy.fft as sfft

from convspec._contract.functions import (
    check_conv_args,
    check_grad_args,
    check_signal_args,
    conv_output_shape,
    signal_as_conv_padding,
    with_channel_bias,
)

from convspec.impls._algebra import add_bias, flipped

_NO_FFT = "not a linear shift-invariant filter: it has no convolution-theorem form"
convspec_capabilities = {
    "accuracy": "fft",
    "validates_arguments": True,
    "biases": True,
    "features": ["grad_input_bias"],
    "dtypes": {"correlate": ["float32", "float64", "complex64", "complex128"],
               "convolve": ["float32", "float64", "complex64", "complex128"], "*": ["float32", "float64"]},
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


def conv_grad_input(gy, w, *, input_shape, stride=None, padding=None, dilation=None, groups=1, bias=None):
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
    return with_channel_bias(np.ascontiguousarray(z[(slice(None), slice(None)) + keep], dtype=gy.dtype), bias)

def _window_lengths(m, k, lo, count):
    """The least fast transform length per axis whose circular convolution still equals the
    linear one on ``[lo, lo + count)``: wrap-around may spoil only the outputs not kept."""
    return tuple(sfft.next_fast_len(max(a + c, mm + kk - 1 - a), real=True) for mm, kk, a, c in zip(m, k, lo, count))


def _single(x, v, lo, count):
    """``full_convolution(x, v)[lo:lo + count]`` (per axis) from one transform of each."""
    lengths = _window_lengths(x.shape, v.shape, lo, count)
    if np.iscomplexobj(x):  # complex signals: the full transforms
        y = sfft.ifftn(sfft.fftn(x, s=lengths) * sfft.fftn(v, s=lengths), s=lengths)
    else:
        yf = sfft.rfftn(x, s=lengths)
        yf *= sfft.rfftn(v, s=lengths)
        y = sfft.irfftn(yf, s=lengths)
    return y[tuple(slice(a, a + c) for a, c in zip(lo, count))]


def blocks(m: int, k: int, length: int) -> int:
    """How many overlap-add blocks of ``length - k + 1`` samples cover a signal of length m."""
    return -(-m // (length - k + 1))


def block_length(m: int, k: int) -> int:
    """Overlap-add block transform length for a 1-D signal of length m and kernel of length k:
    the fast length >= 2(k - 1) that minimises (blocks x L log L)."""
    best, best_cost = None, math.inf
    for scale in (2, 4, 8, 16, 32, 64):
        length = sfft.next_fast_len(max(scale * k, 16), real=True)
        cost = blocks(m, k, length) * length * math.log2(length)
        if cost < best_cost:
            best, best_cost = length, cost
    return best


def _overlap_add(x, v, lo, count, length):
    """1-D ``full_convolution(x, v)[lo:lo + count]`` by overlap-add with transforms of ``length``:
    the signal cut into blocks of ``length - k + 1`` samples, all blocks transformed at once, and
    the tails of length k - 1 added onto the next block."""
    (m,), (k,) = x.shape, v.shape
    step = length - k + 1
    count_blocks = blocks(m, k, length)
    padded = np.zeros(count_blocks * step, dtype=x.dtype)
    padded[:m] = x
    forward, inverse = (sfft.fft, sfft.ifft) if np.iscomplexobj(x) else (sfft.rfft, sfft.irfft)
    yf = forward(padded.reshape(count_blocks, step), n=length, axis=1)
    yf *= forward(v, n=length)
    parts = inverse(yf, n=length, axis=1)  # (blocks, L): each block's full convolution
    full = np.zeros((count_blocks + 1) * step, dtype=parts.dtype)
    full[:count_blocks * step].reshape(count_blocks, step)[...] += parts[:, :step]
    full[step:].reshape(count_blocks, step)[:, :k - 1] += parts[:, step:]
    return full[lo[0]:lo[0] + count[0]]


def overlap_add_length(m: int, k: int):
    """The overlap-add transform length for a 1-D signal of length m and a kernel of length k,
    or None when overlap-add costs no fewer butterflies than one transform of the whole signal."""
    whole = sfft.next_fast_len(m + k - 1, real=True)
    length = block_length(m, k)
    if 2 * blocks(m, k, length) * length * math.log2(length) < 3 * whole * math.log2(whole):
        return length
    return None


def _signal(x, v, mode):
    """The convolution of ``x`` and ``v`` (1-3-D) cropped as ``mode`` asks."""
    pads = signal_as_conv_padding(v.shape, mode)
    lo = tuple(k - 1 - before for k, (before, _) in zip(v.shape, pads))
    count = tuple(m + before + after - k + 1 for m, k, (before, after) in zip(x.shape, v.shape, pads))
    length = overlap_add_length(x.shape[0], v.shape[0]) if x.ndim == 1 else None
    if length is not None:
        y = _overlap_add(x, v, lo, count, length)
    else:
        y = _single(x, v, lo, count)
    return y.astype(x.dtype, copy=False)  # a view of the padded result: copying it costs a pass


def correlate(x, w, *, mode):
    """Eq. 9.6: convolution with the flipped kernel, by the convolution theorem (overlap-add
    for long 1-D signals), at the least transform length the kept outputs allow."""
    x, w = check_signal_args(x, w, mode, complex_=True)
    return _signal(x, np.conj(flipped(w)), mode)  # complex signals: the conjugated kernel


def convolve(x, w, *, mode):
    """Eq. 9.4 by the convolution theorem, as :func:`correlate`."""
    x, w = check_signal_args(x, w, mode, complex_=True)
    return _signal(x, w, mode)
