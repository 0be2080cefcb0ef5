"""The plain backend: a loop over output positions, each one the sum in the book.

Deliberately dumb, and written apart from ``convspec.reference`` (the definition, which loops
over kernel offsets instead).  Every output position is computed on its own as the sum of the products
of the kernel taps with the input values under them (eq. 9.4, 9.6, 9.7, 9.8): the window of
the input that the position sees is cut out and multiplied by the kernel.  No FFTs, no
unrolling into matrices, no caching, so it cannot share a bug with a clever backend.
"""

import itertools

import numpy as np

from convspec._contract.functions import (
    check_adaptive_args,
    check_bias,
    check_conv_args,
    check_grad_args,
    check_integer_conv_args,
    check_qlinear_conv_args,
    check_pool_args,
    check_signal_args,
    check_unpool_args,
    check_unshared_args,
    check_zero_points,
    conv_output_shape,
    every_dtype,
    is_integer_data,
    low_precision_in_float32,
    pool_output_shape,
    same_offset,
    signal_output_shape,
    with_channel_bias,
)

convspec_capabilities = {"accuracy": "direct", "validates_arguments": True, "biases": True,
                         "features": ["pool_dilation", "pool_padding_to_window", "grad_input_bias",
                                      "max_pool_indices", "qlinear"],
                         "dtypes": every_dtype()}


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


@low_precision_in_float32
def correlate(x, w, *, mode):
    """Cross-correlation (eq. 9.6) ``S(i) = sum_j I(i + j) K(j)``, cut to ``mode`` (complex
    signals: ``conj(K(j))``).  float16 and bfloat16 are summed in float32 and rounded once
    (``low_precision_in_float32``, as for the other functions)."""
    x, w = check_signal_args(x, w, mode, complex_=True)
    return _signal(x, w, mode, np.conj(w))  # complex signals: the kernel's conjugate (real: w itself)


@low_precision_in_float32
def convolve(x, w, *, mode):
    """Convolution (eq. 9.4) ``S(i) = sum_j I(i - j) K(j)``: input index up, kernel index down."""
    x, w = check_signal_args(x, w, mode, complex_=True)
    return _signal(x, w, mode, w[(slice(None, None, -1),) * w.ndim])


@low_precision_in_float32
def conv(x, w, *, stride=None, padding=None, dilation=None, groups=1, bias=None, x_zero_point=None, w_zero_point=None,
         x_scale=None, w_scale=None, y_scale=None, y_zero_point=None):
    """Multichannel cross-correlation (eq. 9.7) sampled every ``stride`` (eq. 9.8).

    ``Z[n, o, i] = sum_{c, j} V[n, g*Cg + c, i*stride + j*dilation - before] K[o, c, j]``
    where ``g`` is the group of output channel ``o`` and ``V`` is zero outside the input.
    Integer data: ``V`` and ``K`` are the inputs less their zero points, in int64; int32 result.
    Quantised (``y_scale`` given): each sum plus its bias, requantised by :func:`_requantize`.
    """
    if any(v is not None for v in (x_scale, w_scale, y_scale, y_zero_point)):
        x, w, stride, padding, dilation, groups, zx, zw, sx, sw, sy, zy, b, dtype = check_qlinear_conv_args(
            x, w, stride, padding, dilation, groups, x_zero_point, w_zero_point, x_scale, w_scale, y_scale,
            y_zero_point, bias)
        shifted = (x.astype(np.int64) - zx, w.astype(np.int64) - zw.reshape((-1,) + (1,) * (w.ndim - 1)))
        acc = _conv(*shifted, stride, padding, dilation, groups)
        info = np.iinfo(dtype)
        y = np.empty(acc.shape, dtype)
        for i in np.ndindex(*acc.shape):
            o = i[1]
            y[i] = min(max(_requantize(int(acc[i]) + int(b[o]), sx, sw[o], sy) + int(zy), int(info.min)), int(info.max))
        return y
    if is_integer_data(x):
        x, w, stride, padding, dilation, groups, zx, zw = check_integer_conv_args(
            x, w, stride, padding, dilation, groups, x_zero_point, w_zero_point, bias)
        shifted = (x.astype(np.int64) - zx, w.astype(np.int64) - zw.reshape((-1,) + (1,) * (w.ndim - 1)))
        return _conv(*shifted, stride, padding, dilation, groups).astype(np.int32)
    check_zero_points(x, x_zero_point, w_zero_point)
    x, w, stride, padding, dilation, groups = check_conv_args(x, w, stride, padding, dilation, groups)
    return _conv_bias(_conv(x, w, stride, padding, dilation, groups), bias, x.dtype)


def _requantize(acc: int, sx, sw, sy) -> int:
    """``acc * sx * sw / sy`` rounded to the nearest integer, ties to the even one, exactly: the
    float32 scales as integer ratios (``float.as_integer_ratio``), the rounding by ``divmod``."""
    (a, b), (c, d), (e, f) = (float(s).as_integer_ratio() for s in (sx, sw, sy))
    num, den = acc * a * c * f, b * d * e
    q, r = divmod(num, den)
    return q + 1 if 2 * r > den or (2 * r == den and q % 2) else q


def _conv(x, w, stride, padding, dilation, groups):
    """The loop over output positions, on validated arguments."""
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


def _conv_bias(y, bias, x_dtype):
    """Add a shared ``(C_out,)`` or untied ``(C_out, *O)`` bias."""
    bias = check_bias(bias, {(y.shape[1],), y.shape[1:]}, x_dtype)
    if bias is not None:
        y += bias.reshape(bias.shape + (1,) * (y.ndim - 1 - bias.ndim))
    return y


@low_precision_in_float32
def conv_grad_input(gy, w, *, input_shape, stride=None, padding=None, dilation=None, groups=1, bias=None):
    """Eq. 9.13: the gradient reaching input position ``p`` is the sum, over every output ``i``
    and tap ``j`` that read ``p`` (``i*stride + j*dilation - before = p``), of ``gy[i] * w[j]``."""
    gy, w, shape, stride, padding, dilation, groups = check_grad_args(gy, w, input_shape, "input_shape", stride, padding, dilation, groups)
    dx = np.zeros(shape, dtype=gy.dtype)
    c_group, o_group = w.shape[1], w.shape[0] // groups
    for c_abs in range(shape[1]):
        g, c = divmod(c_abs, c_group)
        outs = slice(g * o_group, (g + 1) * o_group)
        for p in itertools.product(*(range(s) for s in shape[2:])):
            total = np.zeros(shape[0], dtype=np.float64)
            for j in itertools.product(*(range(k) for k in w.shape[2:])):
                i = []
                for q, jj, s, d, (b, _), o in zip(p, j, stride, dilation, padding, gy.shape[2:]):
                    t = q + b - jj * d
                    i.append(t // s if t >= 0 and t % s == 0 and t // s < o else None)
                if None not in i:
                    total += gy[(slice(None), outs) + tuple(i)] @ w[(outs, c) + j]
            dx[(slice(None), c_abs) + p] = total
    return with_channel_bias(dx, bias)

@low_precision_in_float32
def conv_grad_weight(gy, x, *, weight_shape, stride=None, padding=None, dilation=None, groups=1):
    """Eq. 9.11: ``dw[o, c, j]`` sums ``gy[n, o, i] * x[n, g*Cg + c, i*stride + j*dilation - before]``
    over every batch item and output position (zero where that falls in the padding)."""
    gy, x, shape, stride, padding, dilation, groups = check_grad_args(gy, x, weight_shape, "weight_shape", stride, padding, dilation, groups)
    v = np.pad(x, ((0, 0), (0, 0)) + padding)
    dw = np.zeros(shape, dtype=gy.dtype)
    c_group, o_group = shape[1], shape[0] // groups
    for o, c in itertools.product(range(shape[0]), range(c_group)):
        channel = (o // o_group) * c_group + c
        for j in itertools.product(*(range(k) for k in shape[2:])):
            seen = v[(slice(None), channel) + tuple(slice(jj * d, jj * d + (n - 1) * s + 1, s)
                                                    for jj, d, n, s in zip(j, dilation, gy.shape[2:], stride))]
            dw[(o, c) + j] = np.sum(gy[:, o] * seen)
    return dw


def _pool(x, window, stride, padding, ceil_mode, dilation, reduce, integers=False, low=False):
    """Loop over output positions; each window's taps (``dilation`` apart) kept where they
    fall on the input (padding never wins a max and adds nothing to a sum).  ``reduce(values,
    declared)`` gets the input values under the window and how many of its taps lie on the
    input or the declared padding."""
    x, window, stride, padding, dilation = check_pool_args(x, window, stride, padding, ceil_mode, dilation,
                                                           integers=integers, low=low)
    out = pool_output_shape(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                            dilation=dilation)
    y = np.zeros(out, dtype=x.dtype)
    for i in itertools.product(*(range(o) for o in out[2:])):
        taps, declared = [], 1
        for ii, s, k, d, (b, a), n in zip(i, stride, window, dilation, padding, x.shape[2:]):
            at = ii * s - b + d * np.arange(k)
            taps.append(at[(at >= 0) & (at < n)])
            declared *= int(np.sum(at < n + a))  # the taps, cut at the end of the declared padding
        values = x[np.ix_(range(x.shape[0]), range(x.shape[1]), *taps)]
        y[(slice(None), slice(None)) + i] = reduce(values.reshape(values.shape[:2] + (-1,)), declared)
    return y


@low_precision_in_float32
def max_pool(x, *, window, stride=None, padding=None, ceil_mode=False, dilation=None, return_indices=False):
    """Max over each window (section 9.3); padding never wins; NaN in a window gives NaN;
    a window of padding only gives -inf (integer data: the dtype's least value).
    ``return_indices``: also where each maximum is."""
    lowest = np.iinfo(x.dtype).min if is_integer_data(x) else -np.inf
    y = _pool(x, window, stride, padding, ceil_mode, dilation, lambda v, _: np.max(v, axis=-1, initial=lowest),
              integers=True)
    if not return_indices:
        return y
    x, window, stride, padding, dilation = check_pool_args(x, window, stride, padding, ceil_mode, dilation,
                                                           integers=True)
    where = np.full(y.shape, -1, dtype=np.int64)
    for n, c in itertools.product(range(x.shape[0]), range(x.shape[1])):
        for i in itertools.product(*(range(o) for o in y.shape[2:])):
            best = None  # (value, flat index) of the window's first NaN or first maximum
            for t in itertools.product(*(range(k) for k in window)):
                p = tuple(ii * s - b + tt * d for ii, s, (b, _), tt, d in zip(i, stride, padding, t, dilation))
                if not all(0 <= q < m for q, m in zip(p, x.shape[2:])):
                    continue
                v = x[(n, c) + p]
                if best is None or (v != v and best[0] == best[0]) or v > best[0]:
                    best = (v, int(np.ravel_multi_index(p, x.shape[2:])))
            if best is not None:
                where[(n, c) + i] = best[1]
    return y, where


@low_precision_in_float32
def avg_pool(x, *, window, stride=None, padding=None, ceil_mode=False, count_padding=False, dilation=None):
    """Mean over each window: divided by its input elements, or by the window's taps cut to
    the declared padding (a window of padding only: NaN, or 0 with count_padding)."""
    def mean(v, declared):
        with np.errstate(invalid="ignore"):
            return np.sum(v, axis=-1) / (declared if count_padding else v.shape[-1])

    return _pool(x, window, stride, padding, ceil_mode, dilation, mean)


@low_precision_in_float32
def lp_pool(x, *, p, window, stride=None, padding=None, ceil_mode=False, dilation=None):
    """``(sum |x|^p) ** (1/p)`` over each window; p = 2 is the L2 norm of the window."""
    if not np.isfinite(p) or p < 1:
        raise ValueError(f"p={p!r}, but should be a finite number >= 1")
    return _pool(x, window, stride, padding, ceil_mode, dilation, lambda v, _: _lp(v, p))


def _lp(v, p):
    """The Lp norm of each row of ``v``, with the row divided by its largest magnitude first:
    ``|v|^p`` itself leaves the dtype's range where the norm does not (4 x 3e19 with p = 2
    overflows float32; its L2 norm is 4.24e19)."""
    a = np.abs(v)
    top = a.max(axis=-1, keepdims=True, initial=0)
    top[~((top > 0) & np.isfinite(top))] = 1
    return ((a / top) ** v.dtype.type(p)).sum(axis=-1) ** (1 / v.dtype.type(p)) * top[..., 0]


def max_unpool(y, indices, *, output_size):
    """Zeros of ``output_size`` with every pooled value put back where ``indices`` says."""
    y, indices, output_size = check_unpool_args(y, indices, output_size)
    out = np.zeros(y.shape[:2] + output_size, dtype=y.dtype)
    for n, c in itertools.product(range(y.shape[0]), range(y.shape[1])):
        for i in itertools.product(*(range(o) for o in y.shape[2:])):
            k = int(indices[(n, c) + i])
            if k >= 0:
                out[(n, c) + np.unravel_index(k, output_size)] = y[(n, c) + i]
    return out


def _adaptive(x, output_size, reduce, integers=False):
    x, output_size = check_adaptive_args(x, output_size, integers=integers)
    y = np.zeros(x.shape[:2] + output_size, dtype=x.dtype)
    for i in itertools.product(*(range(o) for o in output_size)):
        region = tuple(slice((ii * s) // o, -(-((ii + 1) * s) // o)) for ii, s, o in zip(i, x.shape[2:], output_size))
        values = x[(slice(None), slice(None)) + region]
        y[(slice(None), slice(None)) + i] = reduce(values.reshape(values.shape[:2] + (-1,)), axis=-1)
    return y


@low_precision_in_float32
def adaptive_max_pool(x, *, output_size):
    """Max over each of ``output_size`` bins, whatever the input size."""
    return _adaptive(x, output_size, np.max, integers=True)


@low_precision_in_float32
def adaptive_avg_pool(x, *, output_size):
    """Mean over each of ``output_size`` bins, whatever the input size."""
    return _adaptive(x, output_size, np.mean)


def _unshared(x, w, stride, padding, bias, tiled):
    x, w, stride, padding, out, kernel, tiles, bias = check_unshared_args(x, w, stride, padding, tiled, bias)
    v = np.pad(x, ((0, 0), (0, 0)) + padding)
    y = np.zeros(out, dtype=x.dtype)
    for i in itertools.product(*(range(o) for o in out[2:])):
        seen = v[(slice(None), slice(None)) + tuple(slice(ii * s, ii * s + k) for ii, s, k in zip(i, stride, kernel))]
        if tiled:  # eq. 9.10: the kernel of position i is number i mod t on each axis
            which = tuple(ii % t for ii, t in zip(i, tiles))
            k_i, b_i = w[(Ellipsis,) + which], None if bias is None else bias[(slice(None),) + which]
        else:  # eq. 9.9: a kernel of its own at every position
            k_i, b_i = w[(slice(None),) + i], None if bias is None else bias[(slice(None),) + i]
        y[(slice(None), slice(None)) + i] = np.tensordot(seen, k_i, axes=(list(range(1, seen.ndim)), list(range(1, k_i.ndim))))
        if b_i is not None:
            y[(slice(None), slice(None)) + i] += b_i
    return y


def local_conv(x, w, *, stride=None, padding=None, bias=None):
    """Locally connected layer (eq. 9.9): ``w[o, i, c, j]`` is the weight of output ``o`` at location ``i``."""
    return _unshared(x, w, stride, padding, bias, tiled=False)


def tiled_conv(x, w, *, stride=None, padding=None, bias=None):
    """Tiled convolution (eq. 9.10): ``w[o, c, j, t]`` with ``t`` cycling as ``i mod T``."""
    return _unshared(x, w, stride, padding, bias, tiled=True)
