"""Plain NumPy twins of the contract functions, written as the sums in chapter 9.

These are the oracles the ``definition`` properties compare against.  They are kept dumb on
purpose: one loop over kernel offsets, each adding a shifted slice of the input times one
kernel tap, exactly the terms of the book's sums.  They share no code with any backend in
``impls/`` (the ``naive`` backend loops over *output* positions instead), so a bug cannot
hide in both.

``acc`` selects the accumulation dtype (``np.longdouble`` gives an oracle whose own rounding
is negligible next to float64's); results are returned in ``acc``.
"""

from __future__ import annotations

import itertools

import numpy as np

from .contract import conv_output_shape, same_offset


def correlate_full(x, w, acc=np.float64):
    """Eq. 9.6 over every overlap: ``full[i] = sum_j x[i + j - (k - 1)] * w[j]``."""
    x = np.asarray(x, dtype=acc)
    w = np.asarray(w, dtype=acc)
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
    """Cross-correlation, eq. 9.6, in ``mode`` (see :mod:`convspec.contract`)."""
    return _mode_slice(correlate_full(x, w, acc), np.shape(x), np.shape(w), mode)


def convolve(x, w, *, mode, acc=np.float64):
    """Convolution, eq. 9.4: correlation with the kernel flipped on every axis."""
    w = np.asarray(w)
    return correlate(x, w[(slice(None, None, -1),) * w.ndim], mode=mode, acc=acc)


def conv(x, w, *, stride, padding, dilation, groups, acc=np.float64):
    """Eq. 9.7 with stride (9.8), zero padding, dilation and groups.

    ``y[n, o, i] = sum_{c, j} xpad[n, g*Cg + c, i*stride + j*dilation] * w[o, c, j]``
    with ``g = o // (C_out / groups)`` and ``xpad`` the input zero-padded by ``padding``.
    """
    x = np.asarray(x, dtype=acc)
    w = np.asarray(w, dtype=acc)
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
