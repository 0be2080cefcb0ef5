"""Identities the bundled fast backends share (not ``naive``, which stays independent): one
contract function computed through another (a signal as a one-channel layer, the stride-1
input gradient as a forward layer with the transposed kernel), zero padding and biases."""

import numpy as np

from convspec._contract.functions import check_bias, check_signal_args, signal_as_conv_padding


def flipped(w):
    """``w`` reversed on every axis: convolution is correlation with this kernel (eq. 9.4 vs 9.6)."""
    return w[(slice(None, None, -1),) * w.ndim]


def zero_padded(x, pads, out=None):
    """``x`` with ``pads[i] = (before, after)`` zeros on axis ``i`` (``np.pad``'s constant mode
    without its argument handling, which costs 20 us, as much as a small signal's sums).  With
    ``out`` (of the padded shape), written there: only the padding slabs are zeroed."""
    if out is None:
        if not any(a or b for a, b in pads):
            return x
        out = np.zeros(tuple(n + a + b for n, (a, b) in zip(x.shape, pads)), dtype=x.dtype)
    else:
        for axis, (a, b) in enumerate(pads):
            for cut in (slice(0, a), slice(out.shape[axis] - b, None)):
                out[(slice(None),) * axis + (cut,)] = 0
    out[tuple(slice(a, a + n) for n, (a, _) in zip(x.shape, pads))] = x
    return out


def signal_via_conv(conv, x, w, mode, *, flip):
    """``correlate``/``convolve`` as a single-channel, stride-1 ``conv`` with the mode's padding."""
    x, w = check_signal_args(x, w, mode)
    if flip:
        w = flipped(w)
    ones = (1,) * x.ndim
    y = conv(x[None, None], w[None, None], stride=ones, dilation=ones,
             padding=signal_as_conv_padding(w.shape, mode), groups=1)
    return y[0, 0]


def add_bias(y, bias):
    """``y`` plus a shared ``(C_out,)`` or untied ``(C_out, *O)`` bias (checked), in place."""
    bias = check_bias(bias, {(y.shape[1],), y.shape[1:]}, y.dtype)
    if bias is not None:
        y += bias.reshape(bias.shape + (1,) * (y.ndim - 1 - bias.ndim))
    return y


def transposed_kernel(w, groups):
    """The kernel of the adjoint layer: ``(C_in, C_out / groups, *K)``, each group's channels
    swapped and every spatial axis reversed (eq. 9.13 at stride 1 is a correlation of the
    output gradient with this kernel)."""
    o_group, c_group, kernel = w.shape[0] // groups, w.shape[1], w.shape[2:]
    swapped = w.reshape((groups, o_group, c_group) + kernel).swapaxes(1, 2)
    reversed_axes = (slice(None), slice(None)) + (slice(None, None, -1),) * len(kernel)
    return np.ascontiguousarray(swapped.reshape((groups * c_group, o_group) + kernel)[reversed_axes])


def grad_input_as_conv(conv, gy, w, shape, stride, padding, dilation, groups, bias):
    """``conv_grad_input`` of a stride-1 layer as the forward ``conv`` of ``gy`` with the
    transposed kernel (:func:`transposed_kernel`), padded ``d (k - 1) - a`` before and
    ``d (k - 1) - b`` after on each axis; ``None`` when the layer is strided or padded past
    its kernel's span (then a negative padding would be needed)."""
    if any(s != 1 for s in stride):
        return None
    pads = tuple((d * (k - 1) - a, d * (k - 1) - b) for k, d, (a, b) in zip(w.shape[2:], dilation, padding))
    if any(a < 0 or b < 0 for a, b in pads):
        return None
    dx = conv(gy, transposed_kernel(w, groups), stride=stride, padding=pads, dilation=dilation, groups=groups,
              bias=bias)
    assert dx.shape == tuple(shape), (dx.shape, shape)
    return dx


def _float32_parts(s) -> tuple[int, int]:
    """``(m, e)`` with ``s == m * 2**e`` exactly, ``m`` an integer: a float32 scale as integers."""
    mantissa, exponent = np.frexp(np.float64(s))
    return int(mantissa * (1 << 24)), int(exponent) - 24


def requantized(acc, sx, sw, sy, zy, dtype):
    """The quantised conv's result from its exact sums ``acc`` (int64, ``(N, C_out, *O)``, bias
    included): ``acc * sx * sw[o] / sy`` rounded half to even in integer arithmetic (each float32
    scale is an integer times a power of two), plus ``zy``, saturated to ``dtype``."""
    info = np.iinfo(dtype)
    out = np.empty(acc.shape, dtype)
    mx, ex = _float32_parts(sx)
    my, ey = _float32_parts(sy)
    for o in range(acc.shape[1]):
        mw, ew = _float32_parts(sw[o])
        num, den, shift = mx * mw, my, ex + ew - ey
        num, den = (num << shift, den) if shift >= 0 else (num, den << -shift)
        scaled = acc[:, o].astype(object) * num
        q, twice_r = np.floor_divide(scaled, den), 2 * np.remainder(scaled, den)
        q = q + (twice_r > den) + ((twice_r == den) & (np.remainder(q, 2) == 1))
        out[:, o] = np.clip(q + int(zy), int(info.min), int(info.max)).astype(np.int64)
    return out
