"""Compiled direct loops (Numba, ``cache=True`` so a second process does not recompile).

One kernel serves 1-D, 2-D and 3-D: lower dimensions get singleton spatial axes.  The input
is zero-padded once, so the inner loops carry no bounds tests.  Products are accumulated in
float64 and rounded once to the input dtype.
"""

import functools
import math

import numba
import numpy as np

from convspec._contract.functions import (
    check_adaptive_args,
    check_conv_args,
    check_grad_args,
    check_pool_args,
    check_signal_args,
    conv_output_shape,
    pool_output_shape,
    signal_as_conv_padding,
    with_channel_bias,
)

from convspec.impls._algebra import add_bias, flipped, zero_padded
from convspec.impls._threads import in_threads

convspec_capabilities = {
    "accuracy": "direct",
    "validates_arguments": True,
    "biases": True,
    "features": ["pool_dilation", "pool_padding_to_window", "grad_input_bias"],
    "reasons": {op: "left to naive and im2col" for op in ("local_conv", "tiled_conv")},
}


@numba.njit(cache=True, nogil=True)
def _conv3d(xp, w, groups, stride, dilation, y):
    n_batch, _, _, _, _ = xp.shape
    c_out, c_group, k0, k1, k2 = w.shape
    _, _, o0, o1, o2 = y.shape
    s0, s1, s2 = stride
    d0, d1, d2 = dilation
    o_group = c_out // groups
    for n in range(n_batch):
        for o in range(c_out):
            first = (o // o_group) * c_group
            for i0 in range(o0):
                for i1 in range(o1):
                    for i2 in range(o2):
                        acc = 0.0
                        for c in range(c_group):
                            for j0 in range(k0):
                                for j1 in range(k1):
                                    for j2 in range(k2):
                                        acc += xp[n, first + c, i0 * s0 + j0 * d0, i1 * s1 + j1 * d1, i2 * s2 + j2 * d2] * w[o, c, j0, j1, j2]
                        y[n, o, i0, i1, i2] = acc


#: Outputs per block of the depthwise kernel: a block's sums stay in L1 across the taps.
DEPTHWISE_BLOCK = 2048


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _depthwise_flat(xf, w, offsets, per, length, y):
    """``y[n, o, p] = sum_t w[o, t] xf[n, o // per, p + offsets[t]]``: the taps of a depthwise
    layer are long contiguous multiply-adds over the flattened padded input (they vectorise), nine
    taps (a 3x3 kernel) or three per pass, a block of positions at a time."""
    n_batch, c_out, _ = y.shape
    taps = offsets.shape[0]
    for n in range(n_batch):
        for o in range(c_out):
            src = xf[n, o // per]
            dst = y[n, o]
            for start in range(0, length, DEPTHWISE_BLOCK):
                stop = min(start + DEPTHWISE_BLOCK, length)
                m = stop - start
                block = dst[start:stop]
                if taps == 9:  # a 3x3 kernel: every tap in one pass
                    p0, p1, p2 = src[start + offsets[0]:stop + offsets[0]], src[start + offsets[1]:stop + offsets[1]], \
                        src[start + offsets[2]:stop + offsets[2]]
                    p3, p4, p5 = src[start + offsets[3]:stop + offsets[3]], src[start + offsets[4]:stop + offsets[4]], \
                        src[start + offsets[5]:stop + offsets[5]]
                    p6, p7, p8 = src[start + offsets[6]:stop + offsets[6]], src[start + offsets[7]:stop + offsets[7]], \
                        src[start + offsets[8]:stop + offsets[8]]
                    w0, w1, w2, w3, w4 = w[o, 0], w[o, 1], w[o, 2], w[o, 3], w[o, 4]
                    w5, w6, w7, w8 = w[o, 5], w[o, 6], w[o, 7], w[o, 8]
                    for i in range(m):
                        block[i] = (w0 * p0[i] + w1 * p1[i] + w2 * p2[i]) + (w3 * p3[i] + w4 * p4[i] + w5 * p5[i]) + \
                            (w6 * p6[i] + w7 * p7[i] + w8 * p8[i])
                    continue
                block[:] = 0
                t = 0
                while t < taps:  # slices, so no index wraps around and the loops vectorise
                    a = src[start + offsets[t]:stop + offsets[t]]
                    if t + 2 < taps:
                        b = src[start + offsets[t + 1]:stop + offsets[t + 1]]
                        c = src[start + offsets[t + 2]:stop + offsets[t + 2]]
                        wa, wb, wc = w[o, t], w[o, t + 1], w[o, t + 2]
                        for i in range(m):
                            block[i] += wa * a[i] + wb * b[i] + wc * c[i]
                        t += 3
                    else:
                        wa = w[o, t]
                        for i in range(m):
                            block[i] += wa * a[i]
                        t += 1


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _depthwise_rows(x, w, per, stride, dilation, before, y):
    """``y[n, o, i] = sum_j w[o, j] x[n, o // per, i * stride + j * dilation - before]``, an
    output row at a time: each input row a tap row needs is copied into a zero-bordered row
    buffer (the padding), then each tap is a multiply-add along the output row, at a stride
    known to the compiler (1 or 2) where it can be (fusing taps measured slower at stride 2)."""
    n_batch, _, n0, n1, n2 = x.shape
    c_out, k0, k1, k2 = w.shape
    _, _, o0, o1, o2 = y.shape
    s0, s1, s2 = max(1, stride[0]), max(1, stride[1]), max(1, stride[2])  # max: provably positive, so
    d0, d1, d2 = max(1, dilation[0]), max(1, dilation[1]), max(1, dilation[2])  # no index wraps around
    b0, b1, b2 = max(0, before[0]), max(0, before[1]), max(0, before[2])  # and the loops vectorise
    buf = np.zeros(max((o2 - 1) * s2 + (k2 - 1) * d2 + 1, b2 + n2), dtype=y.dtype)
    acc = np.empty(o2, dtype=y.dtype)
    for n in range(n_batch):
        for o in range(c_out):
            c = o // per
            for i0 in range(o0):
                for i1 in range(o1):
                    acc[:] = 0
                    for j0 in range(k0):
                        a0 = i0 * s0 + j0 * d0 - b0
                        if a0 < 0 or a0 >= n0:
                            continue
                        for j1 in range(k1):
                            a1 = i1 * s1 + j1 * d1 - b1
                            if a1 < 0 or a1 >= n1:
                                continue
                            src = x[n, c, a0, a1]
                            for i in range(n2):
                                buf[b2 + i] = src[i]
                            for j2 in range(k2):  # ranges: provably >= 0, so no index wraps around
                                ta, at = w[o, j0, j1, j2], j2 * d2
                                if s2 == 1:
                                    for i in range(o2):
                                        acc[i] += ta * buf[i + at]
                                elif s2 == 2:
                                    for i in range(o2):
                                        acc[i] += ta * buf[2 * i + at]
                                else:
                                    for i in range(o2):
                                        acc[i] += ta * buf[s2 * i + at]
                    dst = y[n, o, i0, i1]
                    for i in range(o2):
                        dst[i] = acc[i]


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _depthwise_channels_last(x, w, stride, dilation, before, y):
    """The same sum with channels last (``x: (N, *S, C)``, ``w: (*K, C)``, ``y: (N, *O, C)``):
    each tap is a multiply-add along the channels (they vectorise), for planes too small for
    rows to pay."""
    n_batch, n0, n1, n2, channels = x.shape
    k0, k1, k2, _ = w.shape
    _, o0, o1, o2, _ = y.shape
    s0, s1, s2 = stride
    d0, d1, d2 = dilation
    b0, b1, b2 = before
    for n in range(n_batch):
        for i0 in range(o0):
            for i1 in range(o1):
                for i2 in range(o2):
                    out = y[n, i0, i1, i2]
                    out[:] = 0
                    for j0 in range(k0):
                        a0 = i0 * s0 + j0 * d0 - b0
                        if a0 < 0 or a0 >= n0:
                            continue
                        for j1 in range(k1):
                            a1 = i1 * s1 + j1 * d1 - b1
                            if a1 < 0 or a1 >= n1:
                                continue
                            first = i2 * s2 - b2
                            if k2 == 3 and first >= 0 and first + 2 * d2 < n2:  # a row of three taps inside x
                                xa, xb, xc = x[n, a0, a1, first], x[n, a0, a1, first + d2], x[n, a0, a1, first + 2 * d2]
                                ta, tb, tc = w[j0, j1, 0], w[j0, j1, 1], w[j0, j1, 2]
                                for c in range(channels):
                                    out[c] += ta[c] * xa[c] + tb[c] * xb[c] + tc[c] * xc[c]
                                continue
                            for j2 in range(k2):
                                a2 = first + j2 * d2
                                if a2 < 0 or a2 >= n2:
                                    continue
                                src = x[n, a0, a1, a2]
                                tap = w[j0, j1, j2]
                                for c in range(channels):
                                    out[c] += tap[c] * src[c]


@numba.njit(cache=True, nogil=True)
def _phase_geometry(n0, n1, o0, o1, kernel, stride, dilation, before):
    """Where a channel's padded plane goes when held as its ``s0 * s1`` stride phases (rows
    ``R`` with ``R % s0 == r``, columns likewise; one phase at stride 1), each flattened with
    ``h1`` columns: ``(elements, h1, offsets, row_at, rows, counts, places, starts)``.  Tap
    ``(a, b)`` of output ``(i, j)`` is element ``offsets[tap] + i * h1 + j``; row ``r`` of x
    starts at ``row_at[r]`` (``rows`` of them fall inside), its columns ``starts[c]``,
    ``starts[c] + s1``, ... (``counts[c]`` of them) at ``row_at[r] + places[c]`` onwards."""
    k0, k1 = kernel
    s0, s1 = max(1, stride[0]), max(1, stride[1])
    d0, d1 = max(1, dilation[0]), max(1, dilation[1])
    p0, p1 = max(0, before[0]), max(0, before[1])
    q0, q1 = (o0 - 1) * s0 + (k0 - 1) * d0 + 1, (o1 - 1) * s1 + (k1 - 1) * d1 + 1  # the padded plane
    h0, h1 = -(-q0 // s0), -(-q1 // s1)  # a phase's rows and columns
    size = h0 * h1
    offsets = np.zeros(max(k0 * k1, 9), dtype=np.uint64)
    for a in range(k0):
        for b in range(k1):
            ra, cb = a * d0, b * d1
            offsets[a * k1 + b] = ((ra % s0) * s1 + cb % s1) * size + (ra // s0) * h1 + cb // s1
    rows, cols = max(0, min(n0, q0 - p0)), max(0, min(n1, q1 - p1))  # the part of x inside the plane
    row_at = np.zeros(max(rows, 1), dtype=np.uint64)
    for r in range(rows):
        row_at[r] = ((r + p0) % s0) * s1 * size + ((r + p0) // s0) * h1
    starts, counts, places = np.zeros(s1, np.uint64), np.zeros(s1, np.uint64), np.zeros(s1, np.uint64)
    for c in range(s1):
        first_col = (c - p1) % s1
        starts[c], places[c] = first_col, c * size + (first_col + p1) // s1
        counts[c] = (cols - first_col + s1 - 1) // s1 if cols > first_col else 0
    return s0 * s1 * size, h1, offsets, row_at, rows, counts, places, starts


@numba.njit(cache=True, nogil=True)
def _fill_phases(phases, xf, src, width_in, rows, row_at, counts, places, starts):
    """Copy the channel of ``xf`` starting at ``src`` (rows ``width_in`` apart) into its
    places in ``phases`` (:func:`_phase_geometry`); at stride 2 both column phases in one loop
    over column pairs (two loops at a runtime stride took 2.4 ns an element: the fill cost ten
    times a 3x3 layer's sums)."""
    u = np.uint64
    s1 = counts.shape[0]
    count0, place0, start0 = counts[0], places[0], starts[0]
    count1, place1, start1 = counts[s1 - 1], places[s1 - 1], starts[s1 - 1]
    pairs, odd_first, step = min(count0, count1), start0 == 1, u(s1)  # odd_first: x's column 0 is odd
    for r in range(rows):
        line, row = src + u(r) * width_in, row_at[r]
        if s1 == 1:
            at, begin = row + place0, line + start0
            for i in range(count0):
                phases[at + i] = xf[begin + i]
        elif s1 == 2:
            even_at, odd_at = row + place0, row + place1
            if odd_first:
                even_at, odd_at = odd_at, even_at
            for i in range(pairs):
                phases[even_at + i] = xf[line + u(2) * i]
                phases[odd_at + i] = xf[line + u(2) * i + u(1)]
            if count0 > pairs:
                phases[row + place0 + pairs] = xf[line + start0 + u(2) * pairs]
            elif count1 > pairs:
                phases[row + place1 + pairs] = xf[line + start1 + u(2) * pairs]
        else:
            for c in range(s1):
                at, begin = row + places[c], line + starts[c]
                for i in range(counts[c]):
                    phases[at + i] = xf[begin + step * i]


#: Elements a pass over a work plane is rounded up to: the compiled loop runs VECTOR_RUN at a
#: time (vectors of 8 floats, four of them interleaved) and leaves the rest to scalar code,
#: which on a 7x7 plane (61 elements) was half the pass.
VECTOR_RUN = 32


@numba.njit(cache=True, nogil=True)
def _whole_vectors(length):
    """``length`` rounded up to a multiple of :data:`VECTOR_RUN` (the extra outputs are
    computed from the work plane's zero tail and never copied out)."""
    return np.uint64(-(-length // VECTOR_RUN) * VECTOR_RUN)


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _depthwise_plane(x, w, kernel, per, stride, dilation, before, y, first, last):
    """``y[n, o, i, j] = sum_{a,b} w[o, a*k1 + b] x[n, o // per, i*s0 + a*d0 - p0, j*s1 + b*d1 - p1]``
    for the pairs ``first <= n * C_out + o < last``, a channel at a time.

    The channel's zero-padded plane is copied into a work array in cache, split into its stride
    phases (:func:`_phase_geometry`); the border zeros are written once per call, since every
    channel fills the same positions.  Tap ``(a, b)`` then reads one phase at a fixed offset, so
    each tap is a multiply-add along a contiguous run (all nine fused for a 3x3 kernel), the
    outputs computed on the phase's grid (the columns past the output's edge are computed and
    dropped) and copied out by rows.  Indices are unsigned: a signed index is tested for
    wraparound on every access, which kept the loops from vectorising (15x slower)."""
    u = np.uint64
    _, c_in, n0, n1 = x.shape
    c_out, taps = w.shape
    _, _, o0, o1 = y.shape
    elements, h1, offsets, row_at, rows, counts, places, starts = _phase_geometry(n0, n1, o0, o1, kernel, stride,
                                                                                  dilation, before)
    length = _whole_vectors((o0 - 1) * h1 + o1)
    phases = np.zeros(elements + VECTOR_RUN, dtype=x.dtype)
    grid = np.empty(length, dtype=y.dtype)
    e0, e1, e2, e3, e4 = offsets[0], offsets[1], offsets[2], offsets[3], offsets[4]
    e5, e6, e7, e8 = offsets[5], offsets[6], offsets[7], offsets[8]
    xf, yf = x.reshape(-1), y.reshape(-1)
    size_in, size_out, width_in, width, width_out = u(n0 * n1), u(o0 * o1), u(n1), u(h1), u(o1)
    for item in range(first, last):
        n, o = item // c_out, item % c_out
        _fill_phases(phases, xf, u(n * c_in + o // per) * size_in, width_in, rows, row_at, counts, places, starts)
        if taps == 9:  # a 3x3 kernel (or 9 taps in a row): every tap in one pass
            w0, w1, w2, w3, w4 = w[o, 0], w[o, 1], w[o, 2], w[o, 3], w[o, 4]
            w5, w6, w7, w8 = w[o, 5], w[o, 6], w[o, 7], w[o, 8]
            for i in range(length):
                grid[i] = (w0 * phases[e0 + i] + w1 * phases[e1 + i] + w2 * phases[e2 + i]) + \
                    (w3 * phases[e3 + i] + w4 * phases[e4 + i] + w5 * phases[e5 + i]) + \
                    (w6 * phases[e6 + i] + w7 * phases[e7 + i] + w8 * phases[e8 + i])
        else:
            for i in range(length):
                grid[i] = 0
            for t in range(taps):
                e, tap = offsets[t], w[o, t]
                for i in range(length):
                    grid[i] += tap * phases[e + i]
        _copy_rows(yf, u(n * c_out + o) * size_out, grid, o0, width_out, width)


@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _depthwise_masked(xf, w, per, c_in, plane_in, lowest, offsets, masks, yf, first, last):
    """``yf[item * L + q] = sum_t w[o, t] (xf[src + q + offsets[t] - lowest] if masks[t, q] else 0)``
    for the pairs ``first <= item = n * C_out + o < last``, ``src`` the start of input channel
    ``(n, o // per)``, ``L`` the positions of an output channel.  For a stride-1 layer whose
    output sizes are its input's past the first, tap ``t`` of output position ``q`` reads input
    position ``q`` plus a fixed offset, so each tap is a run along the flattened plane, as
    contiguous in x as in y; the mask zeroes what falls in the padding.  Nothing is copied in or
    out (a channel at either end of x, whose reads would leave x, goes through a zeroed copy).

    Every tap's value is loaded before the mask selects it, so the loop vectorises (a select of
    a conditional load did not: 1.5-2.5 times slower); selecting, not multiplying by a 0/1 mask,
    keeps an infinite or NaN neighbour out of a sum it is not in."""
    u = np.uint64
    c_out, taps = w.shape
    lowest, plane, length = u(lowest), u(plane_in), u(masks.shape[1])
    span, total, z = u(offsets.max()), u(xf.shape[0]), xf.dtype.type(0)
    scratch = np.zeros(max(lowest + plane, length + span), dtype=xf.dtype)
    e0, e1, e2, e3, e4 = offsets[0], offsets[1], offsets[2], offsets[3], offsets[4]
    e5, e6, e7, e8 = offsets[5], offsets[6], offsets[7], offsets[8]
    m0, m1, m2, m3, m4 = masks[0], masks[1], masks[2], masks[3], masks[4]
    m5, m6, m7, m8 = masks[5], masks[6], masks[7], masks[8]
    for item in range(first, last):
        n, o = item // c_out, item % c_out
        src, dst = u(n * c_in + o // per) * plane, u(item) * length
        if src >= lowest and src - lowest + length + span <= total:
            a, at = xf, src - lowest
        else:
            scratch[:] = 0
            for i in range(plane):
                scratch[lowest + i] = xf[src + i]
            a, at = scratch, u(0)
        if taps == 9:  # a 3x3 kernel: every tap in one pass
            w0, w1, w2, w3, w4 = w[o, 0], w[o, 1], w[o, 2], w[o, 3], w[o, 4]
            w5, w6, w7, w8 = w[o, 5], w[o, 6], w[o, 7], w[o, 8]
            for i in range(length):
                b = at + i
                v0, v1, v2, v3, v4 = a[b + e0], a[b + e1], a[b + e2], a[b + e3], a[b + e4]
                v5, v6, v7, v8 = a[b + e5], a[b + e6], a[b + e7], a[b + e8]
                yf[dst + i] = (w0 * (v0 if m0[i] else z) + w1 * (v1 if m1[i] else z) + w2 * (v2 if m2[i] else z)) + \
                    (w3 * (v3 if m3[i] else z) + w4 * (v4 if m4[i] else z) + w5 * (v5 if m5[i] else z)) + \
                    (w6 * (v6 if m6[i] else z) + w7 * (v7 if m7[i] else z) + w8 * (v8 if m8[i] else z))
        else:
            for i in range(length):
                yf[dst + i] = z
            for t in range(taps):
                e, tap, m = at + offsets[t], w[o, t], masks[t]
                for i in range(length):
                    v = a[e + i]
                    yf[dst + i] += tap * (v if m[i] else z)


@numba.njit(cache=True, nogil=True)
def _copy_rows(yf, dst, grid, rows, width_out, width):
    """The outputs on a phase's grid (rows ``width`` apart) into ``yf`` from ``dst`` on."""
    u = np.uint64
    for r in range(rows):
        at, line = dst + u(r) * width_out, u(r) * width
        for i in range(width_out):
            yf[at + i] = grid[line + i]


#: The reductions of :func:`_pool_plane`.
PLANE_MAX, PLANE_SUM = 0, 1


@numba.njit(cache=True, nogil=True, inline="always")
def _later_max(m, v):
    """The max of ``m`` (the earlier taps') and a later tap's ``v`` as ``np.maximum`` gives it:
    NaN propagates (either one's), a tie keeps ``m``.  A select the compiler vectorises."""
    return v if (v > m) | (v != v) else m


@numba.njit(cache=True, nogil=True, error_model="numpy")  # x / 0 is NaN or infinity, not an exception
def _pool_plane(x, kernel, stride, dilation, before, fill, kind, divisors, y, first, last):
    """The max (``kind`` PLANE_MAX: NaN propagates, ties keep the earlier tap, as
    ``np.maximum`` does) or the mean (PLANE_SUM: taps added in order, the sum divided in
    float64 by ``divisors[i, j]`` and rounded once) over each window of the channels
    ``first <= n * C + c < last``, padding (and a ceil-mode overhang) worth ``fill``.
    A channel at a time in its stride phases, as :func:`_depthwise_plane`: each tap is one
    pass along a contiguous run.  No fast-math: the comparisons must see NaN."""
    u = np.uint64
    _, _, n0, n1 = x.shape
    _, _, o0, o1 = y.shape
    elements, h1, offsets, row_at, rows, counts, places, starts = _phase_geometry(n0, n1, o0, o1, kernel, stride,
                                                                                  dilation, before)
    taps = kernel[0] * kernel[1]
    length = _whole_vectors((o0 - 1) * h1 + o1)
    phases = np.full(elements + VECTOR_RUN, fill, dtype=x.dtype)
    grid, other = np.empty(length, dtype=y.dtype), np.empty(length, dtype=y.dtype)
    xf, yf = x.reshape(-1), y.reshape(-1)
    size_in, size_out, width_in, width, width_out = u(n0 * n1), u(o0 * o1), u(n1), u(h1), u(o1)
    for item in range(first, last):
        _fill_phases(phases, xf, u(item) * size_in, width_in, rows, row_at, counts, places, starts)
        e = offsets[0]
        for i in range(length):
            grid[i] = phases[e + i]
        for t in range(1, taps):
            e = offsets[t]
            if kind == PLANE_MAX:
                # into the other buffer: kept in place, "m" is stored back unchanged, which the
                # compiler turns into a masked store (vmaskmovps: microcoded and slow on AMD)
                for i in range(length):
                    other[i] = _later_max(grid[i], phases[e + i])
                grid, other = other, grid
            else:
                for i in range(length):
                    grid[i] += phases[e + i]
        if kind == PLANE_MAX:
            _copy_rows(yf, u(item) * size_out, grid, o0, width_out, width)
            continue
        dst = u(item) * size_out
        for r in range(o0):
            at, line, share = dst + u(r) * width_out, u(r) * width, u(r) * width_out
            for i in range(width_out):
                yf[at + i] = grid[line + i] / divisors[share + i]


def pool_plane(x, window, stride, padding, dilation, out, divisors=None):
    """A 1-D or 2-D float pool over validated arguments by :func:`_pool_plane` (1-D lifted),
    its channels split over Numba's threads: the max over each window, or with ``divisors``
    (``out[2:]``, float64) the mean."""
    lift = 4 - x.ndim
    up = lambda t, value: (value,) * lift + tuple(t)  # noqa: E731
    y = np.empty(out[:2] + up(out[2:], 1), dtype=x.dtype)
    x2 = np.ascontiguousarray(x).reshape(x.shape[:2] + up(x.shape[2:], 1))
    kind, fill = (PLANE_MAX, -np.inf) if divisors is None else (PLANE_SUM, 0)
    divisors = np.ones(1) if divisors is None else np.ascontiguousarray(divisors, dtype=np.float64).reshape(-1)
    in_threads(_pool_plane, out[0] * out[1], y.size, x2, up(window, 1), up(stride, 1), up(dilation, 1),
               up((a for a, _ in padding), 0), x.dtype.type(fill), kind, divisors, y)
    return y.reshape(out)


#: Windows a row's max pool runs without stride phases (:func:`max_pool_rows`): 2 and 4 taps,
#: whose fixed loops LLVM vectorises with shuffles (3 and 8 taps stayed scalar and ran slower
#: than the phases).
ROW_WINDOWS = (2, 4)


@numba.njit(cache=True, nogil=True)
def _max_pool_rows(x, k, y, first, last):
    """Rows ``first <= r < last``: ``y[r, o]`` the max of ``x[r, k * o : k * o + k]``
    (:func:`_later_max` over the taps in order), ``k`` one of ROW_WINDOWS."""
    out = y.shape[1]
    for r in range(first, last):
        row, dst = x[r], y[r]
        if k == 2:
            for o in range(out):
                dst[o] = _later_max(row[2 * o], row[2 * o + 1])
        else:
            for o in range(out):
                m = row[4 * o]
                for t in range(1, 4):
                    m = _later_max(m, row[4 * o + t])
                dst[o] = m


def max_pool_rows(x, window, out):
    """A 1-D float max pool whose windows tile each row (stride = window, one of
    :data:`ROW_WINDOWS`, no padding or dilation; the inputs past the last window dropped), a
    row at a time, the rows split over Numba's threads.  One thread, four A-B-B-A rounds, on 64
    channels of 16000 against the stride phases of :func:`pool_plane`: 2 taps 0.130 ms against
    0.278, 4 taps 0.222 against 0.479."""
    n, c, width = x.shape
    rows = np.ascontiguousarray(x).reshape(n * c, width)
    y = np.empty((n * c, out[2]), dtype=x.dtype)
    in_threads(_max_pool_rows, n * c, rows.size, rows, window[0], y)
    return y.reshape(out)


#: Taps times output positions per channel up to which a stride-1 depthwise layer whose output
#: sizes are its input's past the first (a signal's length may differ) runs masked
#: (:func:`_depthwise_masked`; its masks are this many bytes).  Measured at one thread, medians
#: A-B-B-A against the kernels it replaced (AMD EPYC, AVX-512), in us: 3x3 on 960 channels of
#: 7x7 29 against 52, 576 of 14x14 40 against 63, 192 of 28x28 42 against 59 (7056 here); 5x5
#: on 256 of 7x7 37 against 42; 3x3x3 on 128 of 4x7x7 47 against 50; 3 taps on 64 of 1000 14
#: against 17.  At 144 channels of 56x56 (28224) it took 123 against 111.
MASKED_TAP_POSITIONS = 1 << 13


def _masked_geometry(n_in, n_out, kernel, dilation, before):
    """What :func:`_depthwise_masked` needs for a stride-1 depthwise layer of these 3-D sizes
    whose output sizes are its input's past the first (outermost) one the layer has: ``(lowest,
    offsets, masks)``, tap ``t`` of output position ``q`` (flattened) reading input position ``q
    + offsets[t] - lowest`` where ``masks[t, q]`` (else the padding), nine rows at least (the
    kernel unpacks nine)."""
    positions = np.indices(n_out).reshape(3, -1)
    taps = list(np.ndindex(*kernel))
    rows = max(len(taps), 9)
    offsets, masks = np.zeros(rows, dtype=np.int64), np.zeros((rows, positions.shape[1]), dtype=np.bool_)
    for t, tap in enumerate(taps):
        shift = [j * d - p for j, d, p in zip(tap, dilation, before)]
        offsets[t] = (shift[0] * n_in[1] + shift[1]) * n_in[2] + shift[2]
        masks[t] = np.all([(0 <= i + k) & (i + k < n) for i, k, n in zip(positions, shift, n_in)], axis=0)
    lowest = max(0, -int(offsets[:len(taps)].min()))
    return lowest, (offsets + lowest).astype(np.uint64), masks


#: Input positions per channel up to which a strided or 3-D depthwise layer runs channels last
#: (measured: channels last 0.10 ms against 0.17 ms by rows on 384 channels of 14x14, even at 28x28).
CHANNELS_LAST_PLANE = 512


@functools.lru_cache(maxsize=1024)
def depthwise_plan(x_shape, w_shape, dtype, out, stride, padding, dilation):
    """A depthwise layer of validated arguments of these shapes as a function ``(x, w) -> y``
    (no bias; its geometry worked out once and kept), lifted to 3-D, by the fastest of four
    kernels for its shape:

    - 1-D and 2-D: a channel at a time in its stride phases (:func:`_depthwise_plane`), its
      channels split over Numba's threads, except strided layers on small planes.  Measured at
      one thread, medians, A-B-B-A in one process against the kernels it replaced and ONNX
      Runtime 1.32 (old / new / ORT): stride 1, 32 channels of 112x112 4.07 / 0.36 / 0.47 ms,
      144 of 56x56 0.52 / 0.38 / 0.46, 192 of 28x28 0.34 / 0.19 / 0.26, 576 of 14x14 0.33 /
      0.25 / 0.28, 960 of 7x7 level with channels last; stride 2, 96 channels of 112x112
      0.82 / 0.51 / 0.66, 144 of 56x56 0.77 / 0.25 / 0.24, 192 of 28x28 0.24 / 0.15 / 0.11;
    - strided layers on small planes (at most :data:`CHANNELS_LAST_PLANE` inputs per channel),
      and small 3-D ones: channels last (:func:`_depthwise_channels_last`), the transposes
      included (stride 2, 576 channels of 14x14: 0.17 ms, by stride phases 0.20; 960 of 7x7:
      0.12 against 0.14);
    - other strided 3-D layers: output rows (:func:`_depthwise_rows`);
    - stride 1 in 3-D: :func:`_depthwise_flat`: every tap reads the padded input, flattened,
      at a fixed offset, and the outputs are computed on the padded grid flattened (the
      columns past the output's edge are computed and dropped)."""
    lift = 3 - (len(x_shape) - 2)
    up = lambda t, fill: (fill,) * lift + tuple(t)  # noqa: E731
    stride, dilation, before = up(stride, 1), up(dilation, 1), up((a for a, _ in padding), 0)
    x3_shape, per = x_shape[:2] + up(x_shape[2:], 1), w_shape[0] // x_shape[1]
    w3_shape = (w_shape[0],) + up(w_shape[2:], 1)
    small, strided = math.prod(x_shape[2:]) <= CHANNELS_LAST_PLANE, any(s > 1 for s in stride)
    n_in, n_out, kernel3 = x3_shape[2:], up(out[2:], 1), w3_shape[1:]
    if not strided and n_out[lift + 1:] == n_in[lift + 1:] and \
            math.prod(kernel3) * math.prod(n_out) <= MASKED_TAP_POSITIONS:
        lowest, offsets, masks = _masked_geometry(n_in, n_out, kernel3, dilation, before)
        count, plane_in, taps = out[0] * out[1], math.prod(n_in), math.prod(kernel3)

        def masked(x, w):
            y = np.empty(out, dtype=dtype)
            in_threads(_depthwise_masked, count, y.size, np.ascontiguousarray(x).reshape(-1),
                       np.ascontiguousarray(w).reshape(w_shape[0], taps), per, x_shape[1], plane_in, lowest, offsets,
                       masks, y.reshape(-1))
            return y
        return masked
    if len(x_shape) <= 4 and not (small and strided):
        plane_shape, kernel, taps = x3_shape[:2] + x3_shape[3:], w3_shape[2:], math.prod(w3_shape[1:])
        y_shape = out[:2] + up(out[2:], 1)[1:]
        count, size = out[0] * out[1], math.prod(y_shape)

        def by_planes(x, w):
            y = np.empty(y_shape, dtype=dtype)
            in_threads(_depthwise_plane, count, size, np.ascontiguousarray(x).reshape(plane_shape),
                       np.ascontiguousarray(w).reshape(w_shape[0], taps), kernel, per, stride[1:], dilation[1:],
                       before[1:], y)
            return y.reshape(out)
        return by_planes
    if small:
        last = lambda a, axis: np.ascontiguousarray(np.moveaxis(a, axis, -1))  # noqa: E731

        def channels_last(x, w):
            x3, w3 = x.reshape(x3_shape), np.ascontiguousarray(w).reshape(w3_shape)
            xc = np.repeat(x3, per, axis=1) if per > 1 else x3
            yc = np.empty((out[0],) + up(out[2:], 1) + (out[1],), dtype=dtype)
            _depthwise_channels_last(last(xc, 1), last(w3, 0), stride, dilation, before, yc)
            return np.moveaxis(yc, -1, 1).reshape(out)
        return channels_last
    if strided:
        def by_rows(x, w):
            y = np.empty(out[:2] + up(out[2:], 1), dtype=dtype)
            _depthwise_rows(np.ascontiguousarray(x).reshape(x3_shape), np.ascontiguousarray(w).reshape(w3_shape),
                            per, stride, dilation, before, y)
            return y.reshape(out)
        return by_rows
    # stride 1: the padded input flattened, with a zero tail the last taps read past its end
    pads = ((0, 0), (0, 0)) + up(padding, (0, 0))
    padded = tuple(n + a + b for n, (a, b) in zip(x3_shape, pads))
    plane = math.prod(padded[2:])
    offsets = np.asarray([int(np.ravel_multi_index([jj * d for jj, d in zip(up(j, 0), dilation)], padded[2:]))
                          for j in np.ndindex(*w_shape[2:])], dtype=np.int64)
    length, tail = int(np.ravel_multi_index(up((o - 1 for o in out[2:]), 0), padded[2:])) + 1, int(offsets.max())
    cut = (slice(None), slice(None)) + tuple(slice(0, o) for o in up(out[2:], 1))

    def flat(x, w):
        xf = np.empty(x_shape[:2] + (plane + tail,), dtype=dtype)
        xf[:, :, plane:] = 0
        zero_padded(x.reshape(x3_shape), pads, out=xf[:, :, :plane].reshape(padded))
        wide = np.empty(out[:2] + (plane,), dtype=dtype)  # outputs on the whole grid; the view keeps the output
        _depthwise_flat(xf, np.ascontiguousarray(w).reshape(w_shape[0], -1), offsets, per, length, wide)
        return wide.reshape(out[:2] + padded[2:])[cut].reshape(out)
    return flat


def depthwise(x, w, groups):
    """Whether a layer is depthwise: every group one input channel (C_in = groups)."""
    return groups > 1 and w.shape[1] == 1 and x.shape[1] == groups


def conv(x, w, *, stride=None, padding=None, dilation=None, groups=1, bias=None):
    """Layer convolution (eq. 9.7/9.8) as compiled direct loops (a depthwise layer by the one of
    three kernels its shape suits, see :func:`_depthwise`)."""
    x, w, stride, padding, dilation, groups = check_conv_args(x, w, stride, padding, dilation, groups)
    out = conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation)
    if depthwise(x, w, groups):
        return add_bias(depthwise_plan(x.shape, w.shape, x.dtype, out, stride, padding, dilation)(x, w), bias)
    lift = 3 - (x.ndim - 2)
    xp = np.pad(x, ((0, 0), (0, 0)) + padding)
    xp = xp.reshape(xp.shape[:2] + (1,) * lift + xp.shape[2:])  # lifted axes first: the last stays the row
    wc = np.ascontiguousarray(w).reshape(w.shape[:2] + (1,) * lift + w.shape[2:])
    y = np.empty(out[:2] + (1,) * lift + out[2:], dtype=x.dtype)
    lifted = lambda t: (1,) * lift + tuple(t)  # noqa: E731
    _conv3d(xp, wc, groups, lifted(stride), lifted(dilation), y)
    return add_bias(y.reshape(out), bias)


@numba.njit(cache=True, nogil=True)
def _grad_input3d(gy, w, groups, stride, dilation, dxp):
    n_batch, c_out, o0, o1, o2 = gy.shape
    _, c_group, k0, k1, k2 = w.shape
    s0, s1, s2 = stride
    d0, d1, d2 = dilation
    o_group = c_out // groups
    for n in range(n_batch):
        for o in range(c_out):
            first = (o // o_group) * c_group
            for i0 in range(o0):
                for i1 in range(o1):
                    for i2 in range(o2):
                        g = gy[n, o, i0, i1, i2]
                        for c in range(c_group):
                            for j0 in range(k0):
                                for j1 in range(k1):
                                    for j2 in range(k2):
                                        dxp[n, first + c, i0 * s0 + j0 * d0, i1 * s1 + j1 * d1, i2 * s2 + j2 * d2] += g * w[o, c, j0, j1, j2]


@numba.njit(cache=True, nogil=True)
def _grad_weight3d(gy, xp, groups, stride, dilation, dw):
    n_batch, c_out, o0, o1, o2 = gy.shape
    _, c_group, k0, k1, k2 = dw.shape
    s0, s1, s2 = stride
    d0, d1, d2 = dilation
    o_group = c_out // groups
    for o in range(c_out):
        first = (o // o_group) * c_group
        for c in range(c_group):
            for j0 in range(k0):
                for j1 in range(k1):
                    for j2 in range(k2):
                        acc = 0.0
                        for n in range(n_batch):
                            for i0 in range(o0):
                                for i1 in range(o1):
                                    for i2 in range(o2):
                                        acc += gy[n, o, i0, i1, i2] * xp[n, first + c, i0 * s0 + j0 * d0, i1 * s1 + j1 * d1, i2 * s2 + j2 * d2]
                        dw[o, c, j0, j1, j2] = acc


def _lift(a, lift):
    return np.ascontiguousarray(a).reshape(a.shape + (1,) * lift)


def conv_grad_input(gy, w, *, input_shape, stride=None, padding=None, dilation=None, groups=1, bias=None):
    """Eq. 9.13 as compiled loops scattering each output's gradient through its taps."""
    gy, w, shape, stride, padding, dilation, groups = check_grad_args(gy, w, input_shape, "input_shape", stride, padding, dilation, groups)
    lift = 3 - (gy.ndim - 2)
    padded = shape[:2] + tuple(s + a + b for s, (a, b) in zip(shape[2:], padding))
    dxp = np.zeros(padded + (1,) * lift, dtype=np.float64)
    _grad_input3d(_lift(gy, lift), _lift(w, lift), groups, tuple(stride) + (1,) * lift, tuple(dilation) + (1,) * lift, dxp)
    dxp = dxp.reshape(padded)
    keep = tuple(slice(a, a + s) for s, (a, _) in zip(shape[2:], padding))
    return with_channel_bias(np.ascontiguousarray(dxp[(slice(None), slice(None)) + keep], dtype=gy.dtype), bias)

def conv_grad_weight(gy, x, *, weight_shape, stride=None, padding=None, dilation=None, groups=1):
    """Eq. 9.11 as compiled loops: each weight gathers its products over batch and positions."""
    gy, x, shape, stride, padding, dilation, groups = check_grad_args(gy, x, weight_shape, "weight_shape", stride, padding, dilation, groups)
    lift = 3 - (gy.ndim - 2)
    xp = np.pad(x, ((0, 0), (0, 0)) + padding)
    dw = np.empty(shape + (1,) * lift, dtype=gy.dtype)
    _grad_weight3d(_lift(gy, lift), _lift(xp, lift), groups, tuple(stride) + (1,) * lift, tuple(dilation) + (1,) * lift, dw)
    return dw.reshape(shape)


MAX, AVG, LP = 0, 1, 2


@numba.njit(cache=True, nogil=True)
def _pool3d(x, window, stride, dilation, before, after, kind, p, count_padding, y):
    n_batch, channels, n0, n1, n2 = x.shape
    _, _, o0, o1, o2 = y.shape
    k0, k1, k2 = window
    d0, d1, d2 = dilation
    for n in range(n_batch):
        for c in range(channels):
            for i0 in range(o0):
                for i1 in range(o1):
                    for i2 in range(o2):
                        a0 = i0 * stride[0] - before[0]
                        a1 = i1 * stride[1] - before[1]
                        a2 = i2 * stride[2] - before[2]
                        # the taps on the input, and those on the input or the declared padding
                        real = 0
                        declared = 0
                        best = -np.inf
                        total = 0.0
                        scale = 1.0
                        if kind == 2:  # the largest |x| of the window, so no power overflows or underflows
                            top = 0.0
                            for t0 in range(k0):
                                j0 = a0 + t0 * d0
                                for t1 in range(k1):
                                    j1 = a1 + t1 * d1
                                    for t2 in range(k2):
                                        j2 = a2 + t2 * d2
                                        if 0 <= j0 < n0 and 0 <= j1 < n1 and 0 <= j2 < n2:
                                            a = abs(x[n, c, j0, j1, j2])
                                            if a > top:
                                                top = a
                            if top > 0.0 and top < np.inf:
                                scale = top
                        stop = False
                        for t0 in range(k0):
                            j0 = a0 + t0 * d0
                            for t1 in range(k1):
                                j1 = a1 + t1 * d1
                                for t2 in range(k2):
                                    j2 = a2 + t2 * d2
                                    if j0 < n0 + after[0] and j1 < n1 + after[1] and j2 < n2 + after[2]:
                                        declared += 1
                                    if stop or not (0 <= j0 < n0 and 0 <= j1 < n1 and 0 <= j2 < n2):
                                        continue
                                    real += 1
                                    v = x[n, c, j0, j1, j2]
                                    if kind == 0:
                                        if v > best or v != v:  # NaN wins and stays
                                            best = v
                                            if v != v:
                                                stop = True
                                    elif kind == 1:
                                        total += v
                                    else:
                                        total += (abs(v) / scale) ** p
                        if kind == 0:
                            y[n, c, i0, i1, i2] = best
                        elif kind == 1:
                            count = declared if count_padding else real
                            y[n, c, i0, i1, i2] = total / count if count > 0 else np.nan
                        else:
                            y[n, c, i0, i1, i2] = total ** (1.0 / p) * scale


def _pool(x, window, stride, padding, ceil_mode, dilation, kind, p=1.0, count_padding=False):
    x, window, stride, padding, dilation = check_pool_args(x, window, stride, padding, ceil_mode, dilation)
    out = pool_output_shape(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                            dilation=dilation)
    lift = 3 - (x.ndim - 2)
    ones, zeros = (1,) * lift, (0,) * lift  # lifted axes first: the innermost loop runs along the last real axis
    y = np.empty(out[:2] + ones + out[2:], dtype=x.dtype)
    _pool3d(np.ascontiguousarray(x).reshape(x.shape[:2] + ones + x.shape[2:]), ones + tuple(window),
            ones + tuple(stride), ones + tuple(dilation), zeros + tuple(a for a, _ in padding),
            zeros + tuple(b for _, b in padding), kind, float(p), bool(count_padding), y)
    return y.reshape(out)


def max_pool(x, *, window, stride=None, padding=None, ceil_mode=False, dilation=None):
    """Max over each window, compiled; padding never wins, NaN propagates."""
    return _pool(x, window, stride, padding, ceil_mode, dilation, MAX)


def avg_pool(x, *, window, stride=None, padding=None, ceil_mode=False, count_padding=False, dilation=None):
    """Mean over each window, compiled."""
    return _pool(x, window, stride, padding, ceil_mode, dilation, AVG, count_padding=count_padding)


def lp_pool(x, *, p, window, stride=None, padding=None, ceil_mode=False, dilation=None):
    """``(sum |x|^p) ** (1/p)`` over each window, compiled."""
    if not np.isfinite(p) or p < 1:
        raise ValueError(f"p={p!r}, but should be a finite number >= 1")
    return _pool(x, window, stride, padding, ceil_mode, dilation, LP, p=p)


def _adaptive(x, output_size, kind):
    x, output_size = check_adaptive_args(x, output_size)
    y = np.empty(x.shape[:2] + output_size, dtype=x.dtype)
    for i in np.ndindex(*output_size):
        region = tuple(slice((ii * s) // o, -(-((ii + 1) * s) // o)) for ii, s, o in zip(i, x.shape[2:], output_size))
        block = x[(slice(None), slice(None)) + region]
        window = block.shape[2:]
        y[(slice(None), slice(None)) + i] = _pool(np.ascontiguousarray(block), window, window, None, False, None, kind)[(Ellipsis,) + (0,) * len(window)]
    return y


def adaptive_max_pool(x, *, output_size):
    return _adaptive(x, output_size, MAX)


def adaptive_avg_pool(x, *, output_size):
    return _adaptive(x, output_size, AVG)


#: Outputs per task of the single-channel kernel: a task's accumulators stay in L1.
CHUNK = 1024


@numba.njit(cache=True, nogil=True, parallel=True)
def _correlate3d(xp, w, y):
    """``y[i] = sum_j xp[i + j] * w[j]`` (single channel).  Each task owns a run of up to CHUNK
    outputs along the last axis and adds one tap (four at a time, along the row or, for a
    column of taps, four down it) to all of them per pass: the innermost loop runs over contiguous
    outputs, so it vectorises, and sums in the data's dtype."""
    o0, o1, o2 = y.shape
    k0, k1, k2 = w.shape
    chunks = (o2 + CHUNK - 1) // CHUNK
    for task in numba.prange(o0 * o1 * chunks):
        i0 = task // (o1 * chunks)
        i1 = (task // chunks) % o1
        start = (task % chunks) * CHUNK
        width = min(CHUNK, o2 - start)
        acc = np.zeros(CHUNK, dtype=y.dtype)
        for j0 in range(k0):
            first = 0
            if k2 == 1:  # a column of taps (one pass of a separable kernel): four rows per pass
                for j1 in range(0, k1 - 3, 4):
                    a, b, c, d = w[j0, j1, 0], w[j0, j1 + 1, 0], w[j0, j1 + 2, 0], w[j0, j1 + 3, 0]
                    r0, r1 = xp[i0 + j0, i1 + j1, start:], xp[i0 + j0, i1 + j1 + 1, start:]
                    r2, r3 = xp[i0 + j0, i1 + j1 + 2, start:], xp[i0 + j0, i1 + j1 + 3, start:]
                    for i in range(width):
                        acc[i] += a * r0[i] + b * r1[i] + c * r2[i] + d * r3[i]
                first = k1 - k1 % 4
            for j1 in range(first, k1):
                row = xp[i0 + j0, i1 + j1, start:]
                taps = w[j0, j1]
                j2 = 0
                while j2 + 4 <= k2:
                    a, b, c, d = taps[j2], taps[j2 + 1], taps[j2 + 2], taps[j2 + 3]
                    part = row[j2:]
                    for i in range(width):
                        acc[i] += a * part[i] + b * part[i + 1] + c * part[i + 2] + d * part[i + 3]
                    j2 += 4
                while j2 < k2:
                    a = taps[j2]
                    part = row[j2:]
                    for i in range(width):
                        acc[i] += a * part[i]
                    j2 += 1
        y[i0, i1, start:start + width] = acc[:width]


#: A 1-D signal of at most this many multiply-adds with a kernel of at most SMALL_SIGNAL_TAPS
#: taps runs in one task without a padded copy: the copy and the parallel launch cost more than
#: its sums (measured at 1 thread, 8 taps: 10^4 samples 12.9 -> 6.1 us, 10^5 64.7 -> 36.5 us).
#: Longer kernels keep the padded kernel, whose accumulators stay in L1 (512 taps: 2x faster).
SMALL_SIGNAL_MACS = 1 << 21
SMALL_SIGNAL_TAPS = 32


@numba.njit(cache=True, nogil=True)
def _correlate1d_small(x, w, before, y):
    """``y[i] = sum_j x[i - before + j] * w[j]``, the terms outside ``x`` being zero (1-D, one
    task, no padded copy): the outputs whose window lies inside ``x`` four taps per pass over
    contiguous outputs (vectorised), the few at the ends term by term."""
    n, k, m = x.shape[0], w.shape[0], y.shape[0]
    lo = min(before, m)  # before >= 0: outputs below lo start left of x
    hi = max(lo, min(m, n - k + before + 1))  # outputs from hi on end right of x
    inner = y[lo:hi]
    inner[:] = 0
    j = 0
    while j + 4 <= k:
        a, b, c, d = w[j], w[j + 1], w[j + 2], w[j + 3]
        part = x[lo - before + j:]
        for i in range(hi - lo):
            inner[i] += a * part[i] + b * part[i + 1] + c * part[i + 2] + d * part[i + 3]
        j += 4
    while j < k:
        a = w[j]
        part = x[lo - before + j:]
        for i in range(hi - lo):
            inner[i] += a * part[i]
        j += 1
    for e in range(lo + m - hi):
        i = e if e < lo else hi + e - lo
        acc = y.dtype.type(0)
        for j in range(k):
            t = i - before + j
            if 0 <= t < n:
                acc += x[t] * w[j]
        y[i] = acc


def correlate_with_padding(x, w, pads):
    """``valid`` single-channel correlation of ``x`` padded by ``pads`` (``(before, after)`` per
    axis) with ``w``: small 1-D signals without the padded copy, the rest by
    :func:`correlate_padded`."""
    if x.ndim == 1 and w.size <= SMALL_SIGNAL_TAPS and x.size * w.size <= SMALL_SIGNAL_MACS and pads[0][0] >= 0:
        y = np.empty(x.shape[0] + pads[0][0] + pads[0][1] - w.shape[0] + 1, dtype=x.dtype)
        _correlate1d_small(np.ascontiguousarray(x), np.ascontiguousarray(w), pads[0][0], y)
        return y
    return correlate_padded(zero_padded(x, pads), w)


def correlate_padded(xp, w):
    """``valid`` single-channel correlation of an already padded ``xp`` (1-3-D) with ``w``."""
    lift = 3 - xp.ndim
    out = tuple(m - k + 1 for m, k in zip(xp.shape, w.shape))
    y = np.empty((1,) * lift + out, dtype=xp.dtype)
    _correlate3d(np.ascontiguousarray(xp).reshape((1,) * lift + xp.shape),
                 np.ascontiguousarray(w).reshape((1,) * lift + w.shape), y)
    return y.reshape(out)


def correlate(x, w, *, mode):
    """Eq. 9.6 as compiled, vectorised direct loops over the padded signal."""
    x, w = check_signal_args(x, w, mode)
    return correlate_with_padding(x, w, signal_as_conv_padding(w.shape, mode))


def convolve(x, w, *, mode):
    """Eq. 9.4: correlation with the flipped kernel."""
    x, w = check_signal_args(x, w, mode)
    return correlate_with_padding(x, flipped(w), signal_as_conv_padding(w.shape, mode))
