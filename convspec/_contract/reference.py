"""Plain NumPy twins of the contract functions, written as the sums in chapter 9.

They are the definition: the oracles every ``<op>_definition`` property compares against.  They are kept dumb on
purpose: one loop over kernel offsets, each adding a shifted slice of the input times one
kernel tap, exactly the terms of the book's sums.  They share no code with any backend in
``impls/`` (the ``naive`` backend loops over *output* positions instead), so a bug cannot
hide in both.

``acc`` selects the accumulation dtype (``np.longdouble`` gives an oracle whose own rounding
is negligible next to float64's); results are returned in ``acc``.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np

from convspec._contract.functions import adaptive_bins, conv_output_shape, pool_output_shape, quantized_dtype, same_offset


def _complex(acc):
    """The complex dtype whose parts are ``acc``."""
    return np.result_type(acc, np.complex64)


def correlate_full(x, w, acc=np.float64):
    """Eq. 9.6 over every overlap: ``full[i] = sum_j x[i + j - (k - 1)] * w[j]``; complex
    signals: ``conj(w[j])`` (the contract's convention, as SciPy's)."""
    if np.iscomplexobj(x) or np.iscomplexobj(w):
        acc = _complex(acc)
    x = np.asarray(x, dtype=acc)
    w = np.conj(np.asarray(w, dtype=acc))
    out = tuple(m + k - 1 for m, k in zip(x.shape, w.shape))
    y = np.zeros(out, dtype=acc)
    # For kernel tap j, x[a] contributes to full index i = a - j + (k - 1).
    for j in itertools.product(*(range(k) for k in w.shape)):
        target = tuple(slice(k - 1 - jj, k - 1 - jj + m) for jj, k, m in zip(j, w.shape, x.shape))
        y[target] += x * w[j]
    return y


def _mode_slice(full, x_shape, w_shape, mode):
    if mode == "full":
        return full
    if mode == "valid":
        return full[tuple(slice(k - 1, m) for m, k in zip(x_shape, w_shape))]
    if mode == "same":
        return full[tuple(slice(same_offset(k), same_offset(k) + m) for m, k in zip(x_shape, w_shape))]
    raise ValueError(f"mode={mode!r}, but should be 'full', 'same' or 'valid'")


def correlate(x, w, *, mode, acc=np.float64):
    """Cross-correlation, eq. 9.6, in ``mode`` (see :mod:`convspec._contract.functions`)."""
    return _mode_slice(correlate_full(x, w, acc), np.shape(x), np.shape(w), mode)


def convolve(x, w, *, mode, acc=np.float64):
    """Convolution, eq. 9.4: correlation with the kernel flipped on every axis (and, for
    complex signals, conjugated, which undoes correlation's conjugate: convolution has none)."""
    w = np.conj(np.asarray(w))
    return correlate(x, w[(slice(None, None, -1),) * w.ndim], mode=mode, acc=acc)


def conv(x, w, *, stride, padding, dilation, groups, bias=None, x_zero_point=0, w_zero_point=0, acc=np.float64,
         x_scale=None, w_scale=None, y_scale=None, y_zero_point=None):
    """Eq. 9.7 with stride (9.8), zero padding, dilation and groups.

    ``y[n, o, i] = sum_{c, j} xpad[n, g*Cg + c, i*stride + j*dilation] * w[o, c, j]``
    with ``g = o // (C_out / groups)`` and ``xpad`` the input zero-padded by ``padding``.
    Integer data: ``x - x_zero_point`` and ``w[o] - w_zero_point[o]`` in place of ``x`` and
    ``w`` (so padding holds the zero point); ``acc=np.int64`` keeps every sum exact.  With
    ``y_scale`` (a quantised conv): :func:`qlinear_conv`.
    """
    if y_scale is not None:
        return qlinear_conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups,
                            x_zero_point=x_zero_point, w_zero_point=w_zero_point, x_scale=x_scale, w_scale=w_scale,
                            y_scale=y_scale, y_zero_point=y_zero_point, bias=bias)
    x = np.asarray(x, dtype=acc) - np.asarray(x_zero_point, dtype=acc)
    w = np.asarray(w, dtype=acc)
    w = w - np.broadcast_to(np.asarray(w_zero_point, dtype=acc), (w.shape[0],)).reshape((-1,) + (1,) * (w.ndim - 1))
    if x.shape[1] != groups * w.shape[1] or w.shape[0] % groups:
        raise ValueError(f"x.shape[1]={x.shape[1]} and w.shape[:2]={w.shape[:2]}, but should be groups * w.shape[1] "
                         f"and a multiple of groups={groups}")
    out_shape = conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation)
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(padding))
    c_group, o_group = w.shape[1], w.shape[0] // groups
    y = np.zeros(out_shape, dtype=acc)
    for g in range(groups):
        xg = xp[:, g * c_group:(g + 1) * c_group]
        wg = w[g * o_group:(g + 1) * o_group]
        for j in itertools.product(*(range(k) for k in w.shape[2:])):
            window = tuple(
                slice(jj * d, jj * d + (o - 1) * s + 1, s)
                for jj, d, o, s in zip(j, dilation, out_shape[2:], stride)
            )
            taps = xg[(slice(None), slice(None)) + window]  # (N, Cg, *O)
            y[:, g * o_group:(g + 1) * o_group] += np.einsum("nc...,oc->no...", taps, wg[(Ellipsis,) + j])
    return y if bias is None else y + _bias(bias, y.ndim, acc)


def qlinear_conv(x, w, *, stride, padding, dilation, groups, x_zero_point, w_zero_point, x_scale, w_scale, y_scale,
                 y_zero_point, bias=None):
    """The quantised conv (ONNX ``QLinearConv``): the exact integer sum of :func:`conv` plus the
    int32 ``bias``, times ``x_scale * w_scale[o] / y_scale`` as an exact fraction of the float32
    scales, rounded half to even (Python's ``round`` of a ``Fraction``), plus ``y_zero_point``,
    saturated to the result's dtype (``y_zero_point``'s when a NumPy int8/uint8, else ``x``'s)."""
    dtype = quantized_dtype(y_zero_point, np.asarray(x).dtype)
    acc = conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups, x_zero_point=x_zero_point,
               w_zero_point=w_zero_point, bias=bias, acc=np.int64)
    c_out = acc.shape[1]
    w_scale = np.broadcast_to(np.asarray(w_scale, dtype=np.float32), (c_out,))
    multiplier = [Fraction(float(np.float32(x_scale))) * Fraction(float(w_scale[o])) / Fraction(float(np.float32(y_scale)))
                  for o in range(c_out)]
    info = np.iinfo(dtype)
    y = np.zeros(acc.shape, dtype=np.int64)
    for index in np.ndindex(*acc.shape):
        q = round(int(acc[index]) * multiplier[index[1]]) + int(y_zero_point)
        y[index] = min(max(q, int(info.min)), int(info.max))
    return y.astype(dtype)


def _bias(bias, ndim, acc):
    """A shared ``(C_out,)`` or untied ``(C_out, *O)`` bias, shaped to broadcast over ``(N, C_out, *O)``."""
    b = np.asarray(bias, dtype=acc)
    return b.reshape(b.shape + (1,) * (ndim - 1 - b.ndim))


def _taps(shape_out, kernel, stride, dilation):
    """For each kernel tap ``j``: ``(j, slices)`` picking ``i*stride + j*dilation`` for every output ``i``."""
    for j in itertools.product(*(range(k) for k in kernel)):
        yield j, tuple(slice(jj * d, jj * d + (o - 1) * s + 1, s) for jj, d, o, s in zip(j, dilation, shape_out, stride))


def conv_grad_input(gy, w, *, input_shape, stride, padding, dilation, groups, bias=None, acc=np.float64):
    """Eq. 9.13: ``dx[n, g*Cg + c, p] = sum_{o in g, i, j : i s + j d - before = p} gy[n, o, i] w[o, c, j]``.

    Every output scatters its gradient back through the taps that produced it; positions
    that fell in the padding are dropped.  (The transposed convolution; ``bias``, of shape
    ``(C_in,)``, is added per channel, as a transposed-convolution layer does.)
    """
    gy = np.asarray(gy, dtype=acc)
    w = np.asarray(w, dtype=acc)
    padded = tuple(input_shape[:2]) + tuple(s + a + b for s, (a, b) in zip(input_shape[2:], padding))
    dxp = np.zeros(padded, dtype=acc)
    c_group, o_group = w.shape[1], w.shape[0] // groups
    for g in range(groups):
        gyg = gy[:, g * o_group:(g + 1) * o_group]
        for j, window in _taps(gy.shape[2:], w.shape[2:], stride, dilation):
            dxp[(slice(None), slice(g * c_group, (g + 1) * c_group)) + window] += np.einsum(
                "no...,oc->nc...", gyg, w[(slice(g * o_group, (g + 1) * o_group), slice(None)) + j])
    dx = dxp[(slice(None), slice(None)) + tuple(slice(a, a + s) for s, (a, _) in zip(input_shape[2:], padding))]
    if bias is not None:  # the transposed convolution's bias: one value per input channel
        dx = dx + np.asarray(bias, dtype=acc).reshape((1, -1) + (1,) * (dx.ndim - 2))
    return dx


def conv_grad_weight(gy, x, *, weight_shape, stride, padding, dilation, groups, acc=np.float64):
    """Eq. 9.11: ``dw[o, c, j] = sum_{n, i} gy[n, o, i] xpad[n, g*Cg + c, i s + j d]``, ``g`` the group of ``o``."""
    gy = np.asarray(gy, dtype=acc)
    xp = np.pad(np.asarray(x, dtype=acc), ((0, 0), (0, 0)) + tuple(padding))
    dw = np.zeros(weight_shape, dtype=acc)
    c_group, o_group = weight_shape[1], weight_shape[0] // groups
    for g in range(groups):
        gyg = gy[:, g * o_group:(g + 1) * o_group]
        for j, window in _taps(gy.shape[2:], weight_shape[2:], stride, dilation):
            taps = xp[(slice(None), slice(g * c_group, (g + 1) * c_group)) + window]
            dw[(slice(g * o_group, (g + 1) * o_group), slice(None)) + j] = np.einsum(
                "nop,ncp->oc", gyg.reshape(gyg.shape[:2] + (-1,)), taps.reshape(taps.shape[:2] + (-1,)))
    return dw


def max_pool_indices(x, *, window, stride, padding, ceil_mode=False, dilation=None):
    """The contract's ``max_pool(..., return_indices=True)`` indices: for each window, the flat
    index (C order, over x's spatial axes) of its first NaN, else of its first element equal to
    the maximum, in order of position; -1 for a window of padding only."""
    x = np.asarray(x)
    spatial = x.shape[2:]
    positions = np.arange(int(np.prod(spatial)), dtype=np.float64).reshape((1, 1) + spatial)
    pos, _, _ = _pool_windows(positions, window, stride, padding, ceil_mode, -1.0, np.float64, dilation)
    values, real, _ = _pool_windows(x, window, stride, padding, ceil_mode, -np.inf, np.float64, dilation)
    real = np.broadcast_to(real.astype(bool), values.shape)
    nan = np.isnan(values) & real
    with np.errstate(invalid="ignore"):
        top = np.max(np.where(real & ~nan, values, -np.inf), axis=-1, keepdims=True)
    tap = np.where(nan.any(-1), np.argmax(nan, -1), np.argmax(real & (values == top), -1))
    chosen = np.take_along_axis(np.broadcast_to(pos, values.shape), tap[..., None], -1)[..., 0]
    return np.where(real.any(-1), chosen, -1).astype(np.int64)


def _pool_windows(x, window, stride, padding, ceil_mode, fill, acc, dilation=None):
    """Padded values and two masks, with one entry per (output, window tap):

    ``values[..., i, t]``: the input under tap ``t`` of window ``i`` (``fill`` in padding);
    ``real``: 1 where that is an input element; ``declared``: 1 where it is an input element
    or declared padding (not the ceil-mode overhang beyond it).  Taps are ``dilation`` apart.
    """
    x = np.asarray(x, dtype=acc)
    dilation = (1,) * len(window) if dilation is None else tuple(dilation)
    out = pool_output_shape(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                            dilation=dilation)
    spans = [d * (k - 1) + 1 for k, d in zip(window, dilation)]
    extra = [max(0, (o - 1) * s + k - (n + a + b)) for o, s, k, n, (a, b) in zip(out[2:], stride, spans, x.shape[2:], padding)]
    widths = ((0, 0), (0, 0)) + tuple((a, b + e) for (a, b), e in zip(padding, extra))
    values = np.pad(x, widths, constant_values=fill)
    real = np.pad(np.ones(x.shape[2:]), widths[2:])
    declared = np.pad(np.ones(tuple(n + a + b for n, (a, b) in zip(x.shape[2:], padding))), tuple((0, e) for e in extra))
    cols, rmask, dmask = [], [], []
    for _, sl in _taps(out[2:], window, stride, dilation):
        cols.append(values[(Ellipsis,) + sl])
        rmask.append(real[sl])
        dmask.append(declared[sl])
    return np.stack(cols, -1), np.stack(rmask, -1), np.stack(dmask, -1)


def _lowest(x, acc):
    """What padding holds in a max: -inf, or the least value of integer data (in int64)."""
    x = np.asarray(x)
    return (np.iinfo(x.dtype).min, np.int64) if x.dtype.kind in "iu" else (-np.inf, acc)


def max_pool(x, *, window, stride, padding, ceil_mode=False, dilation=None, acc=np.float64):
    """Max over each window; padding is -inf (integer data: the dtype's least value), NaN
    propagates (section 9.3)."""
    values, _, _ = _pool_windows(x, window, stride, padding, ceil_mode, *_lowest(x, acc), dilation)
    return np.max(values, axis=-1)


def avg_pool(x, *, window, stride, padding, ceil_mode=False, count_padding=False, dilation=None, acc=np.float64):
    """Mean over each window: sum / (input elements, or the declared padded window); a window
    of padding only has no input element: 0 / 0 = NaN without ``count_padding``."""
    values, real, declared = _pool_windows(x, window, stride, padding, ceil_mode, 0.0, acc, dilation)
    with np.errstate(invalid="ignore"):
        return values.sum(-1) / (declared if count_padding else real).sum(-1)


def lp_pool(x, *, p, window, stride, padding, ceil_mode=False, dilation=None, acc=np.float64):
    """``(sum |x|^p) ** (1/p)`` over each window (padding contributes 0); p = 2 is the L2 norm."""
    values, _, _ = _pool_windows(x, window, stride, padding, ceil_mode, 0.0, acc, dilation)
    return (np.abs(values) ** acc(p)).sum(-1) ** (acc(1) / acc(p))


def _adaptive(x, output_size, reduce, acc):
    x = np.asarray(x, dtype=acc)
    y = np.empty(x.shape[:2] + tuple(output_size), dtype=acc)
    bins = [adaptive_bins(s, o) for s, o in zip(x.shape[2:], output_size)]
    for i in itertools.product(*(range(o) for o in output_size)):
        region = tuple(slice(*bins[a][ii]) for a, ii in enumerate(i))
        block = x[(slice(None), slice(None)) + region]
        y[(slice(None), slice(None)) + i] = reduce(block.reshape(block.shape[:2] + (-1,)), axis=-1)
    return y


def adaptive_max_pool(x, *, output_size, acc=np.float64):
    """Max over each of ``output_size`` bins, whatever the input size (e.g. four quadrants)."""
    return _adaptive(x, output_size, np.max, _lowest(x, acc)[1])


def adaptive_avg_pool(x, *, output_size, acc=np.float64):
    """Mean over each of ``output_size`` bins."""
    return _adaptive(x, output_size, np.mean, acc)


def max_unpool(y, indices, *, output_size, acc=np.float64):
    """``max_pool``'s inverse placement: zeros of ``output_size`` with each ``y[n, c, i]`` at the
    flat position ``indices[n, c, i]``; -1 puts nothing."""
    y = np.asarray(y, dtype=acc)
    out = np.zeros(y.shape[:2] + tuple(output_size), dtype=acc)
    for n, c in itertools.product(range(y.shape[0]), range(y.shape[1])):
        for i in itertools.product(*(range(o) for o in y.shape[2:])):
            k = int(indices[(n, c) + i])
            if k >= 0:
                out[(n, c) + np.unravel_index(k, tuple(output_size))] = y[(n, c) + i]
    return out


def _unshared(x, w, stride, padding, kernel_at, kernel_shape, bias, acc):
    x = np.asarray(x, dtype=acc)
    w = np.asarray(w, dtype=acc)
    out = conv_output_shape(x.shape, (w.shape[0], x.shape[1]) + tuple(kernel_shape), stride=stride, padding=padding,
                            dilation=(1,) * len(stride))
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(padding))
    y = np.zeros(out, dtype=acc)
    for i in itertools.product(*(range(o) for o in out[2:])):
        seen = xp[(slice(None), slice(None)) + tuple(slice(ii * s, ii * s + k) for ii, s, k in zip(i, stride, kernel_shape))]
        k = kernel_at(w, i)
        y[(slice(None), slice(None)) + i] = np.einsum("ncp,ocp->no", seen.reshape(seen.shape[:2] + (-1,)),
                                                      k.reshape(k.shape[:2] + (-1,)))
    return y if bias is None else y + bias


def local_conv(x, w, *, stride, padding, bias=None, acc=np.float64):
    """Eq. 9.9: ``Z[n, o, i] = sum_{c, j} V[n, c, i s + j - before] W[o, i, c, j]``: a kernel per location."""
    nd = np.ndim(x) - 2
    b = None if bias is None else np.asarray(bias, dtype=acc)
    return _unshared(x, w, stride, padding, lambda w, i: w[(slice(None),) + i], np.shape(w)[2 + nd:], b, acc)


def tiled_conv(x, w, *, stride, padding, bias=None, acc=np.float64):
    """Eq. 9.10: output ``i`` uses kernel ``w[..., i % T]``; the bias ``(C_out, *T)`` is tiled alike."""
    nd = np.ndim(x) - 2
    tiles = np.shape(w)[2 + nd:]
    y = _unshared(x, w, stride, padding, lambda w, i: w[(Ellipsis,) + tuple(ii % t for ii, t in zip(i, tiles))],
                  np.shape(w)[2:2 + nd], None, acc)
    if bias is not None:
        b = np.asarray(bias, dtype=acc)
        index = np.ix_(*(np.arange(o) % t for o, t in zip(y.shape[2:], tiles)))
        y = y + b[(slice(None),) + index]
    return y


def conv_matrix(x_shape, w, *, stride, padding, dilation, groups):
    """The convolution as a dense matrix ``A`` with ``conv(x).ravel() == A @ x.ravel()``.

    Built entry by entry from the definition: row ``(n, o, i)`` holds kernel tap
    ``w[o, c, j]`` in column ``(n, g*Cg + c, i*stride + j*dilation - before)`` whenever that
    position is inside the (unpadded) input.  The same few kernel values repeat along the
    diagonals: the sparse matrix with tied entries of section 9.2.
    """
    w = np.asarray(w, dtype=np.float64)
    out_shape = conv_output_shape(x_shape, w.shape, stride=stride, padding=padding, dilation=dilation)
    n_in, n_out = int(np.prod(x_shape)), int(np.prod(out_shape))
    a = np.zeros((n_out, n_in))
    c_group, o_group = w.shape[1], w.shape[0] // groups
    spatial_in = x_shape[2:]
    for row, (n, o, *i) in enumerate(itertools.product(*(range(s) for s in out_shape))):
        g = o // o_group
        for c in range(c_group):
            for j in itertools.product(*(range(k) for k in w.shape[2:])):
                pos = tuple(ii * s + jj * d - p[0] for ii, jj, s, d, p in zip(i, j, stride, dilation, padding))
                if all(0 <= q < lim for q, lim in zip(pos, spatial_in)):
                    col = np.ravel_multi_index((n, g * c_group + c) + pos, x_shape)
                    a[row, col] += w[(o, c) + j]
    return a


def signal_matrix(x_shape, w, mode):
    """Dense matrix of ``correlate(., w, mode=mode)`` acting on inputs of ``x_shape``.

    Row ``i`` of the full matrix holds ``w[j]`` in column ``i + j - (k - 1)`` (when that is
    inside the input): one kernel tap at a time, the same value along a whole diagonal.
    """
    w = np.asarray(w, dtype=np.float64)
    full_shape = tuple(m + k - 1 for m, k in zip(x_shape, w.shape))
    rows = np.indices(full_shape).reshape(len(full_shape), -1)  # every full index i, one per column
    a = np.zeros((rows.shape[1], int(np.prod(x_shape))))
    for j in itertools.product(*(range(k) for k in w.shape)):
        pos = rows + np.array([jj - (k - 1) for jj, k in zip(j, w.shape)])[:, None]
        inside = np.all((pos >= 0) & (pos < np.array(x_shape)[:, None]), axis=0)
        cols = np.ravel_multi_index(tuple(pos[:, inside]), x_shape)
        a[np.flatnonzero(inside), cols] += w[j]
    a = a.reshape(full_shape + (-1,))
    return _mode_slice(a, x_shape, w.shape, mode).reshape(-1, int(np.prod(x_shape)))
