"""im2col + GEMM: every receptive field unrolled into a row, then one matrix product per group.

The windows are read through a strided view of the padded input (no copy until the
reshape), so stride and dilation cost nothing extra; the GEMM is NumPy's BLAS ``matmul``.
"""

import functools
import math

import numpy as np

from convspec._contract.functions import (
    adaptive_bins,
    check_adaptive_args,
    check_conv_args,
    check_grad_args,
    check_integer_conv_args,
    check_qlinear_conv_args,
    check_pool_args,
    check_unpool_args,
    check_unshared_args,
    check_zero_points,
    conv_output_shape,
    every_dtype,
    is_integer_data,
    low_precision_in_float32,
    pool_output_shape,
    with_channel_bias,
)

from convspec.impls._algebra import add_bias, requantized, signal_via_conv
from convspec.impls._scratch import result, scratch

convspec_capabilities = {"accuracy": "direct", "validates_arguments": True, "biases": True,
                         "features": ["pool_dilation", "pool_padding_to_window", "grad_input_bias",
                                      "max_pool_indices", "qlinear"],
                         "dtypes": every_dtype(complex_=False)}  # complex signals: naive, fft, auto



def lp_norm(a, p, axis):
    """``(sum |a|^p) ** (1/p)`` over ``axis``, computed as ``m (sum (|a|/m)^p) ** (1/p)`` with
    ``m`` the largest ``|a|``: ``|a|^p`` itself overflows for ``|a| > max ** (1/p)`` (about
    1.8e19 in float32 for p = 2) and underflows for tiny values, where the norm is still
    representable.  NaN gives NaN, an infinite value infinity, an all-zero window zero."""
    a = np.abs(a)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where((m > 0) & np.isfinite(m), m, np.ones_like(m))
    p = a.dtype.type(p)
    return (np.sum((a / m) ** p, axis=axis) ** (a.dtype.type(1) / p)) * np.squeeze(m, axis=axis)

def windows(xp, kernel, out, stride, dilation):
    """View of shape ``(N, C, *O, *K)`` whose ``[n, c, i, j]`` is ``xp[n, c, i*stride + j*dilation]``."""
    s_n, s_c, *s_sp = xp.strides
    shape = xp.shape[:2] + tuple(out) + tuple(kernel)
    strides = (s_n, s_c) + tuple(st * s for st, s in zip(stride, s_sp)) + tuple(d * s for d, s in zip(dilation, s_sp))
    return np.lib.stride_tricks.as_strided(xp, shape=shape, strides=strides, writeable=False)


def columns(xp, kernel, out, stride, dilation, channels=slice(None)):
    """im2col: ``(N, prod(O), C * prod(K))``, one row per receptive field."""
    nd = len(kernel)
    view = windows(xp[:, channels], kernel, out, stride, dilation)
    # (N, C, *O, *K) -> (N, *O, C, *K)
    order = (0,) + tuple(range(2, 2 + nd)) + (1,) + tuple(range(2 + nd, 2 + 2 * nd))
    return view.transpose(order).reshape(xp.shape[0], math.prod(out), -1)


#: Bytes of columns built at a time (at least the kernel matrix's size): a block of output
#: rows whose columns stay in cache between the copy and the GEMM that reads them.
COLUMN_BLOCK_BYTES = 1 << 20


def subsampled(x, out, stride):
    """A 1x1 layer's columns: the input at the strided positions, ``(N, C, positions)`` (a copy
    only when strided)."""
    xs = x[(slice(None), slice(None)) + tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out[2:], stride))]
    return xs.reshape(x.shape[0], x.shape[1], math.prod(out[2:]))


def column_blocks(view, image, step, dtype):
    """The columns ``(C * prod(K), positions)`` of one image of ``view`` (its windows
    ``(N, C, *O, *K)``), ``step`` output rows at a time, each block copied into a reused work
    array: yields ``(the block's span of positions, its columns)``."""
    nd = (view.ndim - 2) // 2
    rows, positions = view.shape[2], math.prod(view.shape[2:2 + nd])
    rows_k = view.shape[1] * math.prod(view.shape[2 + nd:])
    by_image = (0,) + tuple(range(1 + nd, 1 + 2 * nd)) + tuple(range(1, 1 + nd))  # (C, *O, *K) -> (C, *K, *O)
    for first in range(0, rows, step):
        last = min(first + step, rows)
        part = view[image, :, first:last].transpose(by_image)
        cols = scratch("columns", part.shape, dtype)
        np.copyto(cols, part)
        yield slice(first * positions // rows, last * positions // rows), cols.reshape(rows_k, -1)


@low_precision_in_float32
def conv(x, w, *, stride=None, padding=None, dilation=None, groups=1, bias=None, x_zero_point=None, w_zero_point=None,
         x_scale=None, w_scale=None, y_scale=None, y_zero_point=None):
    """Layer convolution (eq. 9.7/9.8) as ``kernel_matrix @ columns`` per group.

    The columns are laid out ``(C * prod(K), positions)``, so the product lands directly in
    the output's ``(C_out, positions)`` layout.  They are built for a block of output rows
    at a time (about :data:`COLUMN_BLOCK_BYTES`, or the kernel matrix's size if larger), so
    they are still in cache when the GEMM reads them.  When the columns of the whole batch
    fit in that budget, the batch is one GEMM (the kernel matrix is then packed once, not
    once per image).  A 1x1 layer needs no columns: its input (subsampled if strided) is
    the column matrix.

    Integer data runs the same GEMM in float64 on the inputs less their zero points: every
    product (at most 255**2) and every sum of int32 size is exact there (below 2**53).  A quantised
    conv (``y_scale`` given) adds its int32 bias to those sums and requantises them exactly.
    """
    if any(v is not None for v in (x_scale, w_scale, y_scale, y_zero_point)):
        x, w, stride, padding, dilation, groups, zx, zw, sx, sw, sy, zy, b, dtype = check_qlinear_conv_args(
            x, w, stride, padding, dilation, groups, x_zero_point, w_zero_point, x_scale, w_scale, y_scale,
            y_zero_point, bias)
        acc = conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups, x_zero_point=zx,
                   w_zero_point=zw).astype(np.int64)
        return requantized(acc + b.reshape((1, -1) + (1,) * (x.ndim - 2)), sx, sw, sy, zy, dtype)
    if is_integer_data(x):
        x, w, stride, padding, dilation, groups, zx, zw = check_integer_conv_args(
            x, w, stride, padding, dilation, groups, x_zero_point, w_zero_point, bias)
        shifted = (x - np.float64(zx), w - zw.astype(np.float64).reshape((-1,) + (1,) * (w.ndim - 1)))
        y = conv(*shifted, stride=stride, padding=padding, dilation=dilation, groups=groups)
        return y.astype(np.int32)
    check_zero_points(x, x_zero_point, w_zero_point)
    x, w, stride, padding, dilation, groups = check_conv_args(x, w, stride, padding, dilation, groups)
    return add_bias(conv_plan(x.shape, w.shape, x.dtype, stride, padding, dilation, groups)(x, w), bias)


@functools.lru_cache(maxsize=1024)
def conv_plan(x_shape, w_shape, dtype, stride, padding, dilation, groups):
    """:func:`conv` of validated float arguments of these shapes as a function ``(x, w) -> y``
    (no bias), its geometry worked out once and kept: a 1x1 layer on 28x28 at batch 1 spent
    a third of its 0.3 ms working it out on every call."""
    out = conv_output_shape(x_shape, w_shape, stride=stride, padding=padding, dilation=dilation)
    nd = len(x_shape) - 2
    n, c_out = out[:2]
    c_group, o_group = w_shape[1], c_out // groups
    positions = math.prod(out[2:])
    rows_k = c_group * math.prod(w_shape[2:])
    per_row = rows_k * (positions // out[2]) * dtype.itemsize  # column bytes per output row
    budget = max(COLUMN_BLOCK_BYTES, o_group * rows_k * dtype.itemsize)
    whole_batch = n * out[2] * per_row <= budget
    pointwise = all(k == 1 for k in w_shape[2:]) and all(a == b == 0 for a, b in padding)
    pads = ((0, 0), (0, 0)) + padding
    # the windows (N, C, *O, *K) as columns: (C, *K, N, *O) for the whole batch, or one image at
    # a time (column_blocks); a 1x1 layer's (subsampled) input (N, C, P) is the columns already
    folded = (1, 0, 2) if pointwise else (1,) + tuple(range(2 + nd, 2 + 2 * nd)) + (0,) + tuple(range(2, 2 + nd))
    step = max(1, budget // per_row)
    kmat_shape = (o_group, rows_k)
    groups_at = [(slice(g * c_group, (g + 1) * c_group), slice(g * o_group, (g + 1) * o_group)) for g in range(groups)]

    def run(x, w):
        y = result(out, dtype)
        y3 = y.reshape(n, c_out, positions)
        xs = subsampled(x, out, stride) if pointwise else np.pad(x, pads)
        for channels, outputs in groups_at:
            view = xs[:, channels] if pointwise else windows(xs[:, channels], w_shape[2:], out[2:], stride, dilation)
            kmat = w[outputs].reshape(kmat_shape)
            target = y3[:, outputs]
            if whole_batch and n > 1:
                cols = scratch("columns", (rows_k, n * positions), dtype)
                np.copyto(cols.reshape(view.transpose(folded).shape), view.transpose(folded))
                target[...] = np.matmul(kmat, cols).reshape(o_group, n, positions).transpose(1, 0, 2)
            elif pointwise:
                np.matmul(kmat, view, out=target)
            else:
                for b in range(n):
                    for span, cols in column_blocks(view, b, step, dtype):
                        np.matmul(kmat, cols, out=target[b, :, span])
        return y

    return run


@low_precision_in_float32
def conv_grad_weight(gy, x, *, weight_shape, stride=None, padding=None, dilation=None, groups=1):
    """Eq. 9.11 as GEMMs per group: ``dw_g = sum_n gy_g[n] @ columns_g[n]^T``, the columns
    ``(C * prod(K), positions)`` built for a block of output rows at a time as in :func:`conv`
    and read transposed by the GEMM (no copy).  A 1x1 layer's columns are its (subsampled)
    input; with few positions per image the batch is folded into one product."""
    gy, x, shape, stride, padding, dilation, groups = check_grad_args(gy, x, weight_shape, "weight_shape", stride, padding, dilation, groups)
    out = gy.shape
    n, c_group, o_group = out[0], shape[1], shape[0] // groups
    positions = math.prod(out[2:])
    rows_k = c_group * math.prod(shape[2:])
    g3 = gy.reshape(n, shape[0], positions)
    dw = np.zeros((shape[0], rows_k), dtype=gy.dtype)
    part = np.empty((o_group, rows_k), dtype=gy.dtype)
    if all(k == 1 for k in shape[2:]) and all(a == b == 0 for a, b in padding):
        xs = subsampled(x, out, stride)
        for g in range(groups):
            og, ch = slice(g * o_group, (g + 1) * o_group), slice(g * c_group, (g + 1) * c_group)
            if n > 1 and positions < 512:  # short products: one GEMM over the whole batch
                folded = lambda a: a.transpose(1, 0, 2).reshape(a.shape[1], -1)  # noqa: E731
                np.matmul(folded(g3[:, og]), folded(xs[:, ch]).T, out=dw[og])
                continue
            for b in range(n):
                np.matmul(g3[b, og], xs[b, ch].T, out=part)
                dw[og] += part
        return dw.reshape(shape)
    xp = np.pad(x, ((0, 0), (0, 0)) + padding)
    per_row = rows_k * (positions // out[2]) * x.dtype.itemsize
    step = max(1, max(COLUMN_BLOCK_BYTES, o_group * rows_k * x.dtype.itemsize) // per_row)
    for g in range(groups):
        og = slice(g * o_group, (g + 1) * o_group)
        view = windows(xp[:, g * c_group:(g + 1) * c_group], shape[2:], out[2:], stride, dilation)
        for b in range(n):
            for span, cols in column_blocks(view, b, step, x.dtype):
                np.matmul(g3[b, og, span], cols.T, out=part)
                dw[og] += part
    return dw.reshape(shape)


@low_precision_in_float32
def conv_grad_input(gy, w, *, input_shape, stride=None, padding=None, dilation=None, groups=1, bias=None):
    """Eq. 9.13 as GEMM then col2im: gradient columns ``gy^T @ w``, scattered back tap by tap."""
    gy, w, shape, stride, padding, dilation, groups = check_grad_args(gy, w, input_shape, "input_shape", stride, padding, dilation, groups)
    padded = shape[:2] + tuple(s + a + b for s, (a, b) in zip(shape[2:], padding))
    dxp = np.zeros(padded, dtype=gy.dtype)
    c_group, o_group = w.shape[1], w.shape[0] // groups
    g2 = gy.reshape(gy.shape[0], gy.shape[1], -1)
    kernel = w.shape[2:]
    for g in range(groups):
        kmat = w[g * o_group:(g + 1) * o_group].reshape(o_group, -1)
        dcols = np.matmul(g2[:, g * o_group:(g + 1) * o_group].transpose(0, 2, 1), kmat)  # (N, P, Cg*K)
        dcols = dcols.reshape((shape[0],) + gy.shape[2:] + (c_group,) + kernel)
        for j in np.ndindex(*kernel):  # col2im: every tap adds its slice back
            target = tuple(slice(jj * d, jj * d + (o - 1) * s + 1, s) for jj, d, o, s in zip(j, dilation, gy.shape[2:], stride))
            part = dcols[(Ellipsis,) + j]  # (N, *O, Cg)
            dxp[(slice(None), slice(g * c_group, (g + 1) * c_group)) + target] += np.moveaxis(part, -1, 1)
    dx = dxp[(slice(None), slice(None)) + tuple(slice(a, a + s) for s, (a, _) in zip(shape[2:], padding))]
    return with_channel_bias(dx, bias)

def _pool_view(x, window, stride, padding, ceil_mode, dilation, fill):
    """Validated arguments and windows ``(N, C, *O, *K)`` over ``x`` padded with ``fill``
    (plus the ceil-mode overhang, which never counts), taps ``dilation`` apart.  ``fill=None``:
    a max's, the lowest value of x's dtype (-inf; integer data is valid then)."""
    x, window, stride, padding, dilation = check_pool_args(x, window, stride, padding, ceil_mode, dilation,
                                                           integers=fill is None)
    fill = np.iinfo(x.dtype).min if fill is None and is_integer_data(x) else -np.inf if fill is None else fill
    out = pool_output_shape(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                            dilation=dilation)
    spans = [d * (k - 1) + 1 for k, d in zip(window, dilation)]
    widths = tuple((a, max(b, (o - 1) * s + k - n - a)) for o, s, k, n, (a, b) in zip(out[2:], stride, spans, x.shape[2:], padding))
    xp = np.pad(x, ((0, 0), (0, 0)) + widths, constant_values=fill) if any(a or b for a, b in widths) else x
    view = windows(xp, window, out[2:], stride, dilation)
    return x, window, stride, padding, dilation, out, widths, view


def over_taps(view, ufunc, nd):
    """``ufunc`` reduced over the last ``nd`` (window) axes of ``view``, one tap at a time: each
    step is one pass over all outputs along their own axes (a reduction over the window axes
    themselves runs inner loops as short as the window).  ``np.maximum`` keeps NaN."""
    taps = np.ndindex(*view.shape[-nd:])
    y = np.array(view[(Ellipsis,) + next(taps)])
    for j in taps:
        ufunc(y, view[(Ellipsis,) + j], out=y)
    return y


@low_precision_in_float32
def max_pool(x, *, window, stride=None, padding=None, ceil_mode=False, dilation=None, return_indices=False):
    x, window, stride, _, dilation, out, widths, view = _pool_view(x, window, stride, padding, ceil_mode, dilation,
                                                                   None)
    y = over_taps(view, np.maximum, len(window))
    if not return_indices:
        return y
    # the same windows over the input's flat positions (-1 in padding): the first NaN of each
    # window, else its first element equal to the maximum, in order of position
    flat = np.pad(np.arange(math.prod(x.shape[2:])).reshape((1, 1) + x.shape[2:]), ((0, 0), (0, 0)) + widths,
                  constant_values=-1)
    spots = windows(flat, window, out[2:], stride, dilation)
    taps = view.reshape(view.shape[:len(out)] + (-1,))
    where = np.broadcast_to(spots, view.shape).reshape(taps.shape)
    inside = where >= 0
    nan = np.isnan(taps) & inside
    pick = np.where(nan.any(-1), np.argmax(nan, -1), np.argmax(inside & (taps == y[..., None]), -1))
    chosen = np.take_along_axis(where, pick[..., None], -1)[..., 0]
    return y, np.where(inside.any(-1), chosen, -1).astype(np.int64)


@low_precision_in_float32
def avg_pool(x, *, window, stride=None, padding=None, ceil_mode=False, count_padding=False, dilation=None):
    x, window, stride, padding, dilation, out, _, view = _pool_view(x, window, stride, padding, ceil_mode,
                                                                    dilation, 0)
    with np.errstate(invalid="ignore"):  # a window of padding only: 0 / 0 (NaN) without count_padding
        return (over_taps(view, np.add, len(window)) / pool_counts(x.shape, window, stride, padding, dilation, out,
                                                                  count_padding)).astype(x.dtype)


def pool_counts(shape, window, stride, padding, dilation, out, count_padding):
    """An average pool's divisors, ``(1, 1, *O)``: the same windows over a mask of the elements
    that count (x's, or with ``count_padding`` the padding's too, never a ceil-mode overhang)."""
    spans = [d * (k - 1) + 1 for k, d in zip(window, dilation)]
    widths = tuple((a, max(b, (o - 1) * s + k - n - a)) for o, s, k, n, (a, b) in zip(out[2:], stride, spans,
                                                                                        shape[2:], padding))
    if count_padding:
        inner = tuple(n + a + b for n, (a, b) in zip(shape[2:], padding))
        pads = tuple((0, wb - b) for (_, b), (_, wb) in zip(padding, widths))
    else:
        inner, pads = shape[2:], widths
    mask = np.pad(np.ones((1, 1) + tuple(inner)), ((0, 0), (0, 0)) + tuple(pads))
    return windows(mask, window, out[2:], stride, dilation).sum(axis=tuple(range(-len(window), 0)))


@low_precision_in_float32
def lp_pool(x, *, p, window, stride=None, padding=None, ceil_mode=False, dilation=None):
    if not np.isfinite(p) or p < 1:
        raise ValueError(f"p={p!r}, but should be a finite number >= 1")
    x, window, _, _, _, _, _, view = _pool_view(x, window, stride, padding, ceil_mode, dilation, 0)
    return lp_norm(view, p, tuple(range(-len(window), 0)))


def max_unpool(y, indices, *, output_size):
    """One scatter: each (n, c) row of the flat output gets ``y`` at ``indices`` (-1 skipped)."""
    y, indices, output_size = check_unpool_args(y, indices, output_size)
    n, c = y.shape[:2]
    flat = np.zeros((n * c, math.prod(output_size)), dtype=y.dtype)
    rows = np.repeat(np.arange(n * c), math.prod(y.shape[2:]))
    where = indices.reshape(-1).astype(np.int64)
    keep = where >= 0
    flat[rows[keep], where[keep]] = y.reshape(-1)[keep]
    return flat.reshape((n, c) + output_size)


def _adaptive(x, output_size, reduce, integers=False):
    """Separable: a box's max (or mean: every row of a box has as many elements) is the
    reduction over one axis's bins of the reduction over the next axis's bins.  A global
    average (one bin per axis) is one matrix-vector product of the rows with ones, over ``n``."""
    x, output_size = check_adaptive_args(x, output_size, integers=integers)
    if reduce is np.mean and all(o == 1 for o in output_size) and x.dtype.kind == "f" and x.size:
        rows = x.reshape(x.shape[0] * x.shape[1], -1)
        sums = rows @ np.ones(rows.shape[1], x.dtype)
        return (sums / x.dtype.type(rows.shape[1])).reshape(x.shape[:2] + output_size)
    y = x
    for axis, o in enumerate(output_size, start=2):
        cut = [slice(None)] * x.ndim
        parts = []
        for start, end in adaptive_bins(x.shape[axis], o):
            cut[axis] = slice(start, end)
            parts.append(reduce(y[tuple(cut)], axis=axis))
        y = np.stack(parts, axis=axis)
    return y.astype(x.dtype, copy=False)


@low_precision_in_float32
def adaptive_max_pool(x, *, output_size):
    return _adaptive(x, output_size, np.max, integers=True)


@low_precision_in_float32
def adaptive_avg_pool(x, *, output_size):
    return _adaptive(x, output_size, np.mean)


def _unshared(x, w, stride, padding, bias, tiled):
    x, w, stride, padding, out, kernel, tiles, bias = check_unshared_args(x, w, stride, padding, tiled, bias)
    nd = x.ndim - 2
    xp = np.pad(x, ((0, 0), (0, 0)) + padding)
    cols = columns(xp, kernel, out[2:], stride, (1,) * nd)  # (N, P, C*K)
    c_out, positions = out[1], math.prod(out[2:])
    if tiled:  # the kernel of every position, gathered by i mod T
        pick = np.ix_(*(np.arange(o) % t for o, t in zip(out[2:], tiles)))
        wk = w[(slice(None), slice(None)) + (slice(None),) * nd + pick]  # (C_out, C, *K, *O)
        wk = np.moveaxis(wk.reshape(c_out, -1, positions), 2, 1)  # (C_out, P, C*K)
    else:
        wk = w.reshape(c_out, positions, -1)  # (C_out, P, C*K)
    y = np.einsum("npk,opk->nop", cols, wk, optimize=True).reshape(out)
    if bias is not None:
        b = bias[(slice(None),) + pick] if tiled else bias
        y += b
    return y.astype(x.dtype, copy=False)


def local_conv(x, w, *, stride=None, padding=None, bias=None):
    """Locally connected layer (eq. 9.9) on the im2col columns: one small product per location."""
    return _unshared(x, w, stride, padding, bias, tiled=False)


def tiled_conv(x, w, *, stride=None, padding=None, bias=None):
    """Tiled convolution (eq. 9.10) on the im2col columns, each position's kernel gathered by i mod T."""
    return _unshared(x, w, stride, padding, bias, tiled=True)


@low_precision_in_float32
def correlate(x, w, *, mode):
    return signal_via_conv(conv, x, w, mode, flip=False)


@low_precision_in_float32
def convolve(x, w, *, mode):
    return signal_via_conv(conv, x, w, mode, flip=True)
