"""Winograd minimal filtering F(2x2, 3x3) and F(4x4, 3x3) for 3x3, stride-1 layers (Lavin and
Gray, 2016), and a polyphase variant for stride 2.

F(2x2, 3x3) computes each 2x2 block of outputs from a 4x4 input tile with 16 multiplications
instead of 36 (section 9.8 of the book: faster algorithms for the same convolution); F(4x4,
3x3) each 4x4 block from a 6x6 tile with 36 instead of 144, used when a call has tiles enough
(:func:`algorithm`).  In matrix form, with ``d`` an input tile of one channel and ``g`` a 3x3
kernel::

    Y = A^T [ sum_c (G g G^T) * (B^T d B) ] A

The elementwise products over channels are 16 (or 36) GEMMs ``U[xi] @ V[xi]`` of shape
``(C_out, C) @ (C, tiles)``, with the batch folded into the tiles, run by BLAS.  The
transforms are compiled loops.  A ``k x 3 x 3`` stride-1 layer on volumes runs the 2-D
algorithm on each depth slice, the depth taps summed inside the GEMMs (:func:`_winograd3d`).
Other layers (kernel not 3x3, strided beyond 2 or volumes strided at all, dilated, grouped,
1-D) go to :mod:`convspec.impls.im2col`.

The transforms run on Numba's threads (``NUMBA_NUM_THREADS``), split by channel, when a layer
is large enough for that to pay; the GEMMs on the BLAS's.

The transforms add and subtract tiles before the products, so rounding errors are not
bounded elementwise by the direct-summation bound; the backend declares the normwise
accuracy class (the one FFT methods use), which its errors stay far below.
"""

import functools
import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from convspec._contract.functions import check_conv_args, conv_output_shape

from convspec.impls import _blocked, _blocked_channels, _blocked_columns, im2col
from convspec.impls._algebra import add_bias, signal_via_conv, zero_padded
from convspec.impls._scratch import result, scratch
from convspec.impls._threads import in_threads

convspec_capabilities = {
    "accuracy": "fft",
    "validates_arguments": True,
    "biases": True,
    "reasons": {op: "a Winograd backend for the forward layer only"
                for op in ("conv_grad_input", "conv_grad_weight", "max_pool", "avg_pool", "lp_pool",
                           "adaptive_max_pool", "adaptive_avg_pool", "local_conv", "tiled_conv")},
}


@numba.njit(cache=True, nogil=True, inline="always")
def _g_f23(g0, g1, g2, half):
    """``G g`` of F(2, 3) for one axis of three taps, G = [[1,0,0],[1/2,1/2,1/2],[1/2,-1/2,1/2],[0,0,1]]."""
    even = g0 + g2
    return g0, half * (even + g1), half * (even - g1), g2


@numba.njit(cache=True, nogil=True, inline="always")
def _g_s2(g0, g1, g2, half):
    """The stride-2 variant's kernel side for one axis: (g0, g0 + g2, g2, g1, g1) (``half``
    unused: the same signature as :func:`_g_f23`)."""
    return g0, g0 + g2, g2, g1, g1


@numba.njit(cache=True, nogil=True, inline="always")
def _g_f43(g0, g1, g2, half):
    """``G g`` of F(4, 3) for one axis of three taps (interpolation points 0, 1, -1, 2, -2 and
    infinity), G = [[1/4,0,0],[-1/6,-1/6,-1/6],[-1/6,1/6,-1/6],[1/24,1/12,1/6],[1/24,-1/12,1/6],
    [0,0,1]] (``half`` unused)."""
    even = g0 + g2
    side = g0 * 0.25 + g2  # rows 3 and 4 are (g0 / 4 + g2 +- g1 / 2) / 6
    return (g0 * 0.25, -(even + g1) / 6, -(even - g1) / 6, (side + g1 * 0.5) / 6, (side - g1 * 0.5) / 6,
            g2 * 1.0)  # in float64 (the constants' type), rounded once when stored


@numba.njit(cache=True, nogil=True)
def _kernel_transform(w, u):
    """``u[xi, o * C + c]`` = plane xi of ``G w[o, c] G^T``: the 1-D transform down each
    column of taps, then along each row; 16 planes (F(2x2, 3x3)), 36 (F(4x4, 3x3)) or 25
    (stride 2), as ``u`` has rows.

    Straight-line code per kernel: the 3x3 taps are read in place (contiguous), every
    product by a zero of G is skipped (so an infinite weight reaches only the planes that
    use it), and each plane is written at consecutive addresses along the input channels."""
    c_out, c_in = w.shape[:2]
    _kernels(w.reshape(c_out * c_in * 9), u, 0, c_out * c_in)


@numba.njit(cache=True, nogil=True)
def _kernels(flat, u, first, last):
    """:func:`_kernel_transform` of the kernels ``first <= q < last`` of ``flat`` (kernel ``q``'s
    taps at ``9 q``), one at a time."""
    half = u.dtype.type(0.5)
    for q in range(first, last):
        if u.shape[0] == 16:
            _one_kernel(_g_f23, flat, 9 * q, half, u, q)
        elif u.shape[0] == 36:
            _one_kernel(_g_f43, flat, 9 * q, half, u, q)
        else:
            _one_kernel(_g_s2, flat, 9 * q, half, u, q)


def kernel_transform(w, u):
    """:func:`_kernel_transform` of ``w`` into the planes' rows ``u``: float32 kernels
    :data:`~convspec.impls._blocked.LANES` at a time (:func:`_kernel_tiles`), the same values."""
    if w.dtype == np.float32 and u.dtype == np.float32 and w.flags.c_contiguous:
        _kernel_tiles(w, u, _blocked.LANES)
    else:
        _kernel_transform(w, u)


class _Lanes:
    """An IR vector with the arithmetic the 1-D transforms (:func:`_g_f23`, :func:`_g_s2`,
    :func:`_g_f43`) use, so that their Python code builds the vector form of the same operations,
    in the same order and types as Numba compiles them: ``+``, ``-``, negation, and products and
    quotients by constants; float32 with float32 (an ``np.float32`` constant) stays float32, and
    with a Python float or a float64 vector is widened to float64 first."""

    __array_ufunc__ = None  # np.float32(0.5) * lanes: NumPy leaves it to __rmul__, the constant kept float32

    def __init__(self, b, value):
        self.b, self.value = b, value

    def _wide(self, value):
        return value if value.type.element == ir.DoubleType() else self.b.fpext(
            value, ir.VectorType(ir.DoubleType(), value.type.count))

    def _pair(self, other):
        if isinstance(other, _Lanes):
            a, b = self.value, other.value
            if a.type != b.type:
                a, b = self._wide(a), self._wide(b)
            return a, b
        a = self.value if isinstance(other, np.float32) else self._wide(self.value)
        return a, ir.Constant(a.type, [float(other)] * a.type.count)

    def __add__(self, other):
        return _Lanes(self.b, self.b.fadd(*self._pair(other)))

    def __sub__(self, other):
        return _Lanes(self.b, self.b.fsub(*self._pair(other)))

    def __mul__(self, other):
        return _Lanes(self.b, self.b.fmul(*self._pair(other)))

    def __rmul__(self, other):
        a, b = self._pair(other)
        return _Lanes(self.b, self.b.fmul(b, a))

    def __truediv__(self, other):
        return _Lanes(self.b, self.b.fdiv(*self._pair(other)))

    def __neg__(self):
        return _Lanes(self.b, self.b.fneg(self.value))


def _kernel_tile_ir(module, planes, lanes):
    """``(src, dst, dst_row)``: the planes of ``lanes`` consecutive 3x3 kernels from ``src``
    (kernel ``i``'s taps at ``9 i``), ``dst[xi * dst_row + i]``, as an internal function of
    ``module``.  The tile of ``lanes`` floats from each kernel's first tap, transposed in
    registers, holds each tap of the ``lanes`` kernels in one vector (the ninth gathered apart
    with vectors of 8); the 1-D transform runs down the columns of taps, then along the rows, on
    those vectors, by the same Python function as :func:`_kernel_transform`'s, in the same
    types (:class:`_Lanes`; F(4x4, 3x3) partly in float64, rounded once when stored)."""
    one_d = {16: _g_f23, 36: _g_f43, 25: _g_s2}[planes].py_func  # the Python function, on _Lanes
    name = f"convspec_winograd_kernels_{planes}x{lanes}"
    if name in module.globals:
        return module.globals[name]
    f32, i64, i32 = ir.FloatType(), ir.IntType(64), ir.IntType(32)
    vec = ir.VectorType(f32, lanes)
    fptr, vptr = f32.as_pointer(), vec.as_pointer()
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [fptr, fptr, i64]), name=name)
    fn.linkage = "internal"
    src, dst, dst_row = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    taps = _blocked_channels.transposed(b, [b.load(b.bitcast(b.gep(src, [ir.Constant(i64, 9 * i)]), vptr), align=4)
                                            for i in range(lanes)])[:9]
    for j in range(len(taps), 9):
        gathered = ir.Constant(vec, ir.Undefined)
        for i in range(lanes):
            tap = b.load(b.gep(src, [ir.Constant(i64, 9 * i + j)]))
            gathered = b.insert_element(gathered, tap, ir.Constant(i32, i))
        taps.append(gathered)
    t = [_Lanes(b, v) for v in taps]
    half = np.float32(0.5)
    columns = [one_d(t[j], t[j + 3], t[j + 6], half) for j in range(3)]
    alpha = len(columns[0])
    for a in range(alpha):
        row = one_d(columns[0][a], columns[1][a], columns[2][a], half)
        for e in range(alpha):
            value = row[e].value
            value = value if value.type == vec else b.fptrunc(value, vec)
            b.store(value, b.bitcast(b.gep(dst, [b.mul(dst_row, ir.Constant(i64, alpha * a + e))]), vptr), align=4)
    b.ret_void()
    return fn


@intrinsic
def _kernel_tile(typingctx, lanes, planes, src, src_at, dst, dst_at, dst_row):
    """``_kernel_tile(lanes, planes, src, src_at, dst, dst_at, dst_row)`` for Numba code: the
    kernel of :func:`_kernel_tile_ir` for ``planes`` (16, 36 or 25) and ``lanes`` (one of
    ``VECTOR_LANES``) between the arrays' data from those element offsets."""
    sig = types.void(types.intp, types.intp, src, types.intp, dst, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        lanes_, planes_, sa, src_at_, da, dst_at_, dst_row_ = args
        s = context.make_array(signature.args[2])(context, builder, sa).data
        d = context.make_array(signature.args[4])(context, builder, da).data
        _blocked._dispatch(builder, (lanes_, planes_),
                           {(n, p): functools.partial(_kernel_tile_ir, planes=p, lanes=n)
                            for n in _blocked.VECTOR_LANES for p in (16, 36, 25)},
                           [builder.gep(s, [src_at_]), builder.gep(d, [dst_at_]), dst_row_])
        return context.get_dummy_value()

    return sig, codegen


@numba.njit(cache=True, nogil=True)
def _kernel_tiles(w, u, lanes):
    """:func:`_kernel_transform` of float32 kernels, ``lanes`` at a time
    (:func:`_kernel_tile_ir`); those whose tile would read past the last tap one at a time."""
    c_out, c_in = w.shape[:2]
    count = c_out * c_in
    flat, rows = w.reshape(count * 9), u.reshape(-1)
    # the last kernel a tile may start at: its last row, 9 (q + lanes - 1) + lanes, within the taps
    last_tile = count - lanes + 1 - -(-lanes // 9)
    whole = (last_tile // lanes + 1) * lanes if last_tile >= 0 else 0
    for q0 in range(0, whole, lanes):
        _kernel_tile(lanes, u.shape[0], flat, 9 * q0, rows, q0, u.shape[1])
    _kernels(flat, u, whole, count)


@numba.njit(cache=True, nogil=True, inline="always")
def _one_kernel(one_d, flat, b, half, u, q):
    """Column q of the planes: ``G g G^T`` for the kernel ``g = flat[b:b + 9]``, by the 1-D
    transform ``one_d`` down each column of taps, then along each row."""
    c0 = one_d(flat[b], flat[b + 3], flat[b + 6], half)
    c1 = one_d(flat[b + 1], flat[b + 4], flat[b + 7], half)
    c2 = one_d(flat[b + 2], flat[b + 5], flat[b + 8], half)
    alpha = len(c0)
    for a in range(alpha):
        r = one_d(c0[a], c1[a], c2[a], half)
        for e in range(alpha):
            u[alpha * a + e, q] = r[e]


@numba.njit(cache=True, nogil=True)
def _input_transform(xp, tiles_h, tiles_w, v, first, last):
    """``v[xi, c, t] = (B^T d B)[xi]`` for the 4x4 tile ``d`` at (2 ty, 2 tx) of image n and
    channel ``first <= c < last``, t = (n * tiles_h + ty) * tiles_w + tx, with
    B^T = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]]."""
    n_batch, channels = xp.shape[:2]
    width = xp.shape[3]
    r = np.empty((4, width), dtype=v.dtype)
    for n in range(n_batch):
        for c in range(first, last):
            for ty in range(tiles_h):
                top = 2 * ty
                for q in range(width):  # B^T d on whole rows: vectorises along q
                    d0, d1, d2, d3 = xp[n, c, top, q], xp[n, c, top + 1, q], xp[n, c, top + 2, q], xp[n, c, top + 3, q]
                    r[0, q] = d0 - d2
                    r[1, q] = d1 + d2
                    r[2, q] = d2 - d1
                    r[3, q] = d1 - d3
                base = (n * tiles_h + ty) * tiles_w
                for i in range(4):
                    for tx in range(tiles_w):
                        q = 2 * tx
                        e0, e1, e2, e3 = r[i, q], r[i, q + 1], r[i, q + 2], r[i, q + 3]
                        v[4 * i, c, base + tx] = e0 - e2
                        v[4 * i + 1, c, base + tx] = e1 + e2
                        v[4 * i + 2, c, base + tx] = e2 - e1
                        v[4 * i + 3, c, base + tx] = e1 - e3


@numba.njit(cache=True, nogil=True, inline="always")
def _store_block(y, n, o, row, col, top_left, top_right, bottom_left, bottom_right):
    """The 2x2 output block at (row, col), cropped where it overhangs the bottom or right edge."""
    height, width = y.shape[2], y.shape[3]
    y[n, o, row, col] = top_left
    if col + 1 < width:
        y[n, o, row, col + 1] = top_right
    if row + 1 < height:
        y[n, o, row + 1, col] = bottom_left
        if col + 1 < width:
            y[n, o, row + 1, col + 1] = bottom_right


@numba.njit(cache=True, nogil=True)
def _output_transform(m, tiles_h, tiles_w, y, first, last):
    """``y[n, o, 2ty:2ty+2, 2tx:2tx+2] = A^T m A`` for ``first <= o < last`` (cropped at the
    edges), A^T = [[1,1,1,0],[0,1,-1,-1]]."""
    n_batch, c_out = y.shape[:2]
    for n in range(n_batch):
        for o in range(first, last):
            for ty in range(tiles_h):
                base = (n * tiles_h + ty) * tiles_w
                for tx in range(tiles_w):
                    t = base + tx
                    # A^T m: two rows of four
                    a0 = m[0, o, t] + m[4, o, t] + m[8, o, t]
                    a1 = m[1, o, t] + m[5, o, t] + m[9, o, t]
                    a2 = m[2, o, t] + m[6, o, t] + m[10, o, t]
                    a3 = m[3, o, t] + m[7, o, t] + m[11, o, t]
                    b0 = m[4, o, t] - m[8, o, t] - m[12, o, t]
                    b1 = m[5, o, t] - m[9, o, t] - m[13, o, t]
                    b2 = m[6, o, t] - m[10, o, t] - m[14, o, t]
                    b3 = m[7, o, t] - m[11, o, t] - m[15, o, t]
                    _store_block(y, n, o, 2 * ty, 2 * tx, a0 + a1 + a2, a1 - a2 - a3, b0 + b1 + b2, b1 - b2 - b3)


# F(4x4, 3x3): a 4x4 block of outputs from a 6x6 input tile with 36 products instead of 144
# (2.25 per output, against 4 for F(2x2, 3x3)), and 36 transformed planes per 16 outputs
# instead of 16 per 4, so the transforms move 1.8x less data per output too.  Per axis,
#     B^T = [[4,0,-5,0,1,0],[0,-4,-4,1,1,0],[0,4,-4,-1,1,0],[0,-2,-1,2,1,0],[0,2,-1,-2,1,0],[0,4,0,-5,0,1]],
#     A^T = [[1,1,1,1,1,0],[0,1,-1,2,-2,0],[0,1,1,4,4,0],[0,1,-1,8,-8,1]].

@numba.njit(cache=True, nogil=True)
def _input_transform_f43(xp, tiles_h, tiles_w, v, first, last):
    """``v[xi, c, t] = (B^T d B)[xi]`` for the 6x6 tile ``d`` at (4 ty, 4 tx) of image n and
    channel ``first <= c < last``, t = (n * tiles_h + ty) * tiles_w + tx."""
    n_batch = xp.shape[0]
    width = xp.shape[3]
    r = np.empty((6, width), dtype=v.dtype)
    for n in range(n_batch):
        for c in range(first, last):
            for ty in range(tiles_h):
                top = 4 * ty
                for q in range(width):  # B^T d on whole rows: vectorises along q
                    d0, d1, d2 = xp[n, c, top, q], xp[n, c, top + 1, q], xp[n, c, top + 2, q]
                    d3, d4, d5 = xp[n, c, top + 3, q], xp[n, c, top + 4, q], xp[n, c, top + 5, q]
                    r[0, q] = 4 * d0 - 5 * d2 + d4
                    r[1, q] = d3 + d4 - 4 * (d1 + d2)
                    r[2, q] = d4 - d3 + 4 * (d1 - d2)
                    r[3, q] = d4 - d2 + 2 * (d3 - d1)
                    r[4, q] = d4 - d2 - 2 * (d3 - d1)
                    r[5, q] = 4 * d1 - 5 * d3 + d5
                base = (n * tiles_h + ty) * tiles_w
                for i in range(6):
                    for tx in range(tiles_w):
                        q = 4 * tx
                        e0, e1, e2, e3, e4, e5 = r[i, q], r[i, q + 1], r[i, q + 2], r[i, q + 3], r[i, q + 4], r[i, q + 5]
                        t = base + tx
                        v[6 * i, c, t] = 4 * e0 - 5 * e2 + e4
                        v[6 * i + 1, c, t] = e3 + e4 - 4 * (e1 + e2)
                        v[6 * i + 2, c, t] = e4 - e3 + 4 * (e1 - e2)
                        v[6 * i + 3, c, t] = e4 - e2 + 2 * (e3 - e1)
                        v[6 * i + 4, c, t] = e4 - e2 - 2 * (e3 - e1)
                        v[6 * i + 5, c, t] = 4 * e1 - 5 * e3 + e5


@numba.njit(cache=True, nogil=True)
def _output_transform_f43(m, tiles_h, tiles_w, y, first, last):
    """``y[n, o, 4ty:4ty+4, 4tx:4tx+4] = A^T m A`` for ``first <= o < last``, cropped at the
    bottom and right edges."""
    n_batch = y.shape[0]
    height, width = y.shape[2], y.shape[3]
    a = np.empty((4, 6), dtype=y.dtype)
    for n in range(n_batch):
        for o in range(first, last):
            for ty in range(tiles_h):
                base = (n * tiles_h + ty) * tiles_w
                for tx in range(tiles_w):
                    t = base + tx
                    for e in range(6):  # A^T down each of the six columns
                        m0, m1, m2 = m[e, o, t], m[6 + e, o, t], m[12 + e, o, t]
                        m3, m4, m5 = m[18 + e, o, t], m[24 + e, o, t], m[30 + e, o, t]
                        plus, minus, plus2, minus2 = m1 + m2, m1 - m2, m3 + m4, m3 - m4
                        a[0, e] = m0 + plus + plus2
                        a[1, e] = minus + 2 * minus2
                        a[2, e] = plus + 4 * plus2
                        a[3, e] = minus + 8 * minus2 + m5
                    for i in range(min(4, height - 4 * ty)):  # then along each row
                        plus, minus = a[i, 1] + a[i, 2], a[i, 1] - a[i, 2]
                        plus2, minus2 = a[i, 3] + a[i, 4], a[i, 3] - a[i, 4]
                        row, col = 4 * ty + i, 4 * tx
                        y[n, o, row, col] = a[i, 0] + plus + plus2
                        if col + 3 < width:
                            y[n, o, row, col + 1] = minus + 2 * minus2
                            y[n, o, row, col + 2] = plus + 4 * plus2
                            y[n, o, row, col + 3] = minus + 8 * minus2 + a[i, 5]
                        else:
                            if col + 1 < width:
                                y[n, o, row, col + 1] = minus + 2 * minus2
                            if col + 2 < width:
                                y[n, o, row, col + 2] = plus + 4 * plus2


# Stride 2: the even input samples see taps (0, 2), the odd ones tap 1.  Per axis, two outputs
# from inputs x[0..4] take 5 products instead of 6: F(2, 2) on the even phase and two
# direct products on the odd one,
#     y0 = m0 + m1 + m3,  y1 = m1 + m2 + m4,   m = (x0 - x2, x2, x4 - x2, x1, x3) * (g0, g0 + g2, g2, g1, g1),
# nested over both axes: 25 products per 2x2 outputs instead of 36, with no division.

@numba.njit(cache=True, nogil=True)
def _input_transform_s2(xp, tiles_h, tiles_w, v, first, last):
    n_batch, channels = xp.shape[:2]
    width = xp.shape[3]
    r = np.empty((5, width), dtype=v.dtype)
    for n in range(n_batch):
        for c in range(first, last):
            for ty in range(tiles_h):
                top = 4 * ty
                for q in range(width):
                    x0, x1, x2 = xp[n, c, top, q], xp[n, c, top + 1, q], xp[n, c, top + 2, q]
                    x3, x4 = xp[n, c, top + 3, q], xp[n, c, top + 4, q]
                    r[0, q] = x0 - x2
                    r[1, q] = x2
                    r[2, q] = x4 - x2
                    r[3, q] = x1
                    r[4, q] = x3
                base = (n * tiles_h + ty) * tiles_w
                for i in range(5):
                    for tx in range(tiles_w):
                        q = 4 * tx
                        x0, x1, x2, x3, x4 = r[i, q], r[i, q + 1], r[i, q + 2], r[i, q + 3], r[i, q + 4]
                        v[5 * i, c, base + tx] = x0 - x2
                        v[5 * i + 1, c, base + tx] = x2
                        v[5 * i + 2, c, base + tx] = x4 - x2
                        v[5 * i + 3, c, base + tx] = x1
                        v[5 * i + 4, c, base + tx] = x3


@numba.njit(cache=True, nogil=True)
def _output_transform_s2(m, tiles_h, tiles_w, y, first, last):
    n_batch, c_out = y.shape[:2]
    for n in range(n_batch):
        for o in range(first, last):
            for ty in range(tiles_h):
                base = (n * tiles_h + ty) * tiles_w
                for tx in range(tiles_w):
                    t = base + tx
                    # the row step (y0 = m0 + m1 + m3, y1 = m1 + m2 + m4) on each of the five columns
                    a0 = m[0, o, t] + m[5, o, t] + m[15, o, t]
                    a1 = m[1, o, t] + m[6, o, t] + m[16, o, t]
                    a2 = m[2, o, t] + m[7, o, t] + m[17, o, t]
                    a3 = m[3, o, t] + m[8, o, t] + m[18, o, t]
                    a4 = m[4, o, t] + m[9, o, t] + m[19, o, t]
                    b0 = m[5, o, t] + m[10, o, t] + m[20, o, t]
                    b1 = m[6, o, t] + m[11, o, t] + m[21, o, t]
                    b2 = m[7, o, t] + m[12, o, t] + m[22, o, t]
                    b3 = m[8, o, t] + m[13, o, t] + m[23, o, t]
                    b4 = m[9, o, t] + m[14, o, t] + m[24, o, t]
                    _store_block(y, n, o, 2 * ty, 2 * tx, a0 + a1 + a3, a1 + a2 + a4, b0 + b1 + b3, b1 + b2 + b4)


#: Bytes of transformed kernels per block of output channels (about half an L2 cache).
KERNEL_BLOCK_BYTES = 1 << 19


def planes(name, shape, dtype, count=16):
    """Scratch for ``count`` matrices of ``shape`` whose starts are not a multiple of 4 KiB
    apart: the transforms touch all of them at once, and same-aligned streams evict each
    other from L1.  Returns the matrices and the C-contiguous rows that hold them (plane
    ``xi`` is ``rows[xi, :prod(shape)]``), which compiled loops index without strides."""
    size = math.prod(shape)
    rows = scratch(name, (count, size + 16), dtype)
    return rows[:, :size].reshape((count,) + tuple(shape)), rows


def applies(x_shape, w_shape, stride, dilation, groups) -> bool:
    """Whether the layer is one this backend computes by a Winograd algorithm (else im2col):
    ungrouped and undilated; 2-D 3x3 at stride 1 (F(2x2, 3x3) or F(4x4, 3x3)) or 2 (the
    polyphase variant); or 3-D, ``k x 3 x 3`` at stride 1 (:func:`_winograd3d`)."""
    if groups != 1 or any(d != 1 for d in dilation) or tuple(w_shape[-2:]) != (3, 3):
        return False
    if len(x_shape) == 4:
        return tuple(stride) in ((1, 1), (2, 2))
    return len(x_shape) == 5 and tuple(stride) == (1, 1, 1)


#: name -> (products per axis, input samples per output tile and axis, outputs per tile and
#: axis, input and output transforms); the kernel transform tells them apart by the number of
#: planes
_ALGORITHMS = {
    "f23": (4, 2, 2, _input_transform, _output_transform),
    "f43": (6, 4, 4, _input_transform_f43, _output_transform_f43),
    "s2": (5, 4, 2, _input_transform_s2, _output_transform_s2),
}


#: F(4x4, 3x3) is used at stride 1 when a call has at least this many 4x4 output tiles (and at
#: least as many as output channels); below, F(2x2, 3x3).  F(4x4) does fewer products and
#: moves less data per output, but its transformed kernels are 36 planes, and with few tiles
#: the GEMMs are narrow and the kernel transform dominates.  Measured at 1 thread, 3x3 layers of
#: ResNet-50: 64 channels of 56x56 at batch 1 (196 tiles) 2.10 -> 1.65 ms, 128 of 28x28 at batch
#: 8 (a block of 245 tiles) 14.0 -> 11.9 ms; but 256 of 14x14 at batch 1 (16 tiles) 1.68 -> 4.36.
F43_MIN_TILES = 128


def algorithm(stride, out, n, c_out) -> str:
    """The Winograd algorithm of a call: ``"s2"`` at stride 2, else ``"f43"`` or ``"f23"`` by
    the number of 4x4 output tiles of the ``n`` images of ``out`` spatial shape."""
    if stride[0] != 1:
        return "s2"
    tiles = n * -(-out[0] // 4) * -(-out[1] // 4)
    return "f43" if tiles >= max(F43_MIN_TILES, c_out) else "f23"


def products_per_output(stride, out, n, c_out) -> float:
    """Multiplications per output and input channel of the call's algorithm (9 for the direct sum)."""
    alpha, _, size = _ALGORITHMS[algorithm(stride, out, n, c_out)][:3]
    return alpha * alpha / (size * size)


def conv(x, w, *, stride=None, padding=None, dilation=None, groups=1, bias=None):
    """Layer convolution (eq. 9.7/9.8); a Winograd algorithm when :func:`applies`, else im2col."""
    x, w, stride, padding, dilation, groups = check_conv_args(x, w, stride, padding, dilation, groups)
    if not applies(x.shape, w.shape, stride, dilation, groups) or x.dtype.kind != "f":
        return im2col.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias)
    if x.ndim == 5:
        return add_bias(_winograd3d(x, w, padding), bias)
    return add_bias(_winograd(x, w, stride, padding, dilation), bias)


def conv_by_image_blocks(x, w, *, stride=None, padding=None, dilation=None, groups=1, bias=None):
    """:func:`conv` a block of images at a time, so that a block's transformed tiles stay in
    cache (the kernels are transformed again for each block).  Which wins depends on the
    caches and on the kernel's size against the tiles', so ``auto`` times both; at batch 8 on
    one thread: 64 channels of 56x56 16.9 ms against 19.6 as one batch, 256 of 14x14 11.6
    against 15.0, stride 2 on 128 of 56x56 20.9 against 32.4, but 512 of 7x7 20.2 against 18.0."""
    x, w, stride, padding, dilation, groups = check_conv_args(x, w, stride, padding, dilation, groups)
    if x.ndim != 4:
        return conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias)
    out = conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation)
    for size in (4, 2):  # the images per block at F(4x4)'s tile count, if F(4x4) runs on such a block
        tiles = -(-out[2] // size) * -(-out[3] // size)  # per image
        group = max(1, BATCH_BLOCK_ELEMENTS // (tiles * x.shape[1]), -(-BATCH_BLOCK_TILES // tiles))
        if algorithm(stride, out[2:], group, w.shape[0]) == ("f43" if size == 4 else "f23"):
            break
    if not applies(x.shape, w.shape, stride, dilation, groups) or x.dtype.kind != "f" or x.shape[0] <= group:
        return conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias)
    y = result(out, x.dtype)
    for first in range(0, x.shape[0], group):
        y[first:first + group] = _winograd(x[first:first + group], w, stride, padding, dilation)
    return add_bias(y, bias)


#: Transformed input elements per plane (one of 16, 25 or 36) per block of images ...
BATCH_BLOCK_ELEMENTS = 1 << 15
#: ... but never fewer tiles per block than this: the GEMMs need enough columns.
BATCH_BLOCK_TILES = 64


def _winograd(x, w, stride, padding, dilation):
    out = conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation)
    n, c_in, height, width = x.shape
    alpha, step, size, input_transform, output_transform = _ALGORITHMS[algorithm(stride, out[2:], n, w.shape[0])]
    c_out = w.shape[0]
    tiles_h, tiles_w = -(-out[2] // size), -(-out[3] // size)
    (top, _), (left, _) = padding
    rows, cols = max(step * tiles_h + alpha - step, top + height), max(step * tiles_w + alpha - step, left + width)
    xp = zero_padded(x, ((0, 0), (0, 0), (top, rows - top - height), (left, cols - left - width)),
                     out=scratch("xp", (n, c_in, rows, cols), x.dtype))  # only the border zeroed
    tiles = n * tiles_h * tiles_w
    v, _ = planes("v", (c_in, tiles), x.dtype, alpha * alpha)
    in_threads(input_transform, c_in, tiles * c_in, xp, tiles_h, tiles_w, v)
    m, _ = planes("m", (c_out, tiles), x.dtype, alpha * alpha)
    # the transformed kernels of a block of output channels are used while still in cache; on
    # columns all at once, the products one pass split over the threads (256 channels of 14x14,
    # one image: 0.69 ms, against 0.78 in blocks of 30 rows and 0.85 by NumPy's matmul at one
    # thread; at two, 0.61 against 0.83, a hand-off per block)
    columns = _on_columns(x.dtype, c_in, tiles)
    block = c_out if columns else max(32, KERNEL_BLOCK_BYTES // (alpha * alpha * c_in * x.dtype.itemsize) // 32 * 32)
    w = np.ascontiguousarray(w)
    u_block, u_rows = planes("u", (min(block, c_out), c_in), x.dtype, alpha * alpha)
    for first in range(0, c_out, block):
        last = min(first + block, c_out)
        kernel_transform(w[first:last], u_rows)
        _products(u_block[:, :last - first], v, m[:, first:last])  # GEMMs (block, C) @ (C, tiles)
    y = result(out, x.dtype)
    in_threads(output_transform, c_out, tiles * c_out, m, tiles_h, tiles_w, y)
    return y


def _on_columns(dtype, count, tiles):
    """Whether products of ``count`` by ``tiles`` run on columns (:func:`_products`)."""
    return dtype == np.float32 and _blocked_columns.fits(count, tiles, _blocked.LANES)


def _products(u, v, m):
    """``m[xi] = u[xi] @ v[xi]`` for every plane: on columns (:func:`convspec.impls._blocked_columns.products`)
    where the product fits, as on one image of 7x7 tiles, else by NumPy's matmul."""
    if _on_columns(u.dtype, u.shape[2], v.shape[2]):
        _blocked_columns.products(u, v, m, _blocked.LANES)
    else:
        np.matmul(u, v, out=m)


def _winograd3d(x, w, padding):
    """A ``k x 3 x 3`` stride-1 layer on volumes by the 2-D algorithm in height and width: the
    output at depth ``d`` is ``sum_j conv2d(x[d + j], w[..., j, :, :])``.  Each padded depth
    slice is transformed once (slices laid out depth-major, channels inside), so for output
    depth ``d`` the transformed slices ``d .. d + k - 1`` are one contiguous ``(k C, tiles)``
    matrix, and the depth taps become part of the GEMMs' inner dimension:
    ``M[xi] = U[xi] (C_out, k C) @ V[xi] (k C, tiles)``."""
    n, c_in, depth, height, width = x.shape
    c_out, _, k = w.shape[:3]
    (front, back), (top, _), (left, _) = padding
    out_d, out_h, out_w = depth + front + back - k + 1, height + top + padding[1][1] - 2, width + left + padding[2][1] - 2
    alpha, step, size, input_transform, output_transform = _ALGORITHMS[algorithm((1, 1), (out_h, out_w), 1, c_out)]
    tiles_h, tiles_w = -(-out_h // size), -(-out_w // size)
    rows, cols = max(step * tiles_h + alpha - step, top + height), max(step * tiles_w + alpha - step, left + width)
    slices = depth + front + back
    # padded, depth-major: (n, slice, c, rows, cols), one "image" of n * slices * c channels
    xp = scratch("xp3", (n, slices, c_in, rows, cols), x.dtype)
    zero_padded(x.transpose(0, 2, 1, 3, 4), ((0, 0), (front, back), (0, 0), (top, rows - top - height),
                                           (left, cols - left - width)), out=xp)
    tiles = tiles_h * tiles_w
    channels = n * slices * c_in
    v, _ = planes("v", (channels, tiles), x.dtype, alpha * alpha)
    in_threads(input_transform, channels, tiles * channels, xp.reshape(1, channels, rows, cols), tiles_h, tiles_w, v)
    # U[xi] (C_out, k C), its columns ordered (depth tap, channel) as the slices' rows are
    u, u_rows = planes("u3", (c_out, k * c_in), x.dtype, alpha * alpha)
    kernel_transform(np.ascontiguousarray(w.transpose(0, 2, 1, 3, 4)).reshape(c_out, k * c_in, 3, 3), u_rows)
    m, _ = planes("m", (n * out_d * c_out, tiles), x.dtype, alpha * alpha)
    for image in range(n):
        for d in range(out_d):
            first = (image * slices + d) * c_in
            block = (image * out_d + d) * c_out
            _products(u, v[:, first:first + k * c_in], m[:, block:block + c_out])
    y = np.empty((1, n * out_d * c_out, out_h, out_w), dtype=x.dtype)
    in_threads(output_transform, n * out_d * c_out, tiles * n * out_d * c_out, m, tiles_h, tiles_w, y)
    volume = result((n, c_out, out_d, out_h, out_w), x.dtype)
    volume[...] = y.reshape(n, out_d, c_out, out_h, out_w).transpose(0, 2, 1, 3, 4)
    return volume


def correlate(x, w, *, mode):
    return signal_via_conv(conv, x, w, mode, flip=False)


def convolve(x, w, *, mode):
    return signal_via_conv(conv, x, w, mode, flip=True)
