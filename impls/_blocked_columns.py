"""Register blocks on columns, for one image whose output plane is whole vectors and one more
output (ResNet-50's and MobileNetV2's 7x7 outputs: 49 = 3 x 16 + 1), 1x1 layers among them.

Along the planes of :mod:`convspec.impls._blocked`, 49 outputs computed as 64; with output
channels in the lanes (:mod:`convspec.impls._blocked_channels`), the weights are packed on
every call (about a fifth of such a layer's time at batch 1, where its 512 x 4608 weights are
read for 49 outputs).  Here the weights are read where they are, as the planes read them, and
no output is dropped: a block is ``rows`` output channels by every output of the image, the
first ``vectors`` vectors of outputs summed as the other blocks sum them (a weight broadcast
into a vector of inputs, for each ``k``), the last output in one vector per output channel
along the reduction (16 consecutive ``k`` a step: the weights' row where it is, times the
last output's inputs), summed across at the end.

The inputs are the layer's columns (eq. 9.7 as a matrix product: ``k = (c, tap)`` by output),
``(K, vectors * lanes)`` and the last output's ``(K,)``, built once per call from the plane
layout's rewritten input; a 1x1 layer without padding reads its input where it is (at stride 1)
or picks every stride-th input position by one strided copy.
"""

import functools
import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from convspec.impls import _blocked
from convspec.impls._blocked_channels import _unrolled_never
from convspec.impls._scratch import result, scratch
from convspec.impls._threads import in_threads

#: Output channels per block, by floats per vector: 6 x 3 vectors of sums, 6 along the
#: reduction, three input vectors and a broadcast weight fill 28 of AVX-512's 32 registers;
#: 3 x 3 + 3 + 3 + 1, AVX2's 16.
ROWS = {8: 3, 16: 6}
#: Vectors of outputs a block holds besides the last output: an image's outputs are
#: ``vectors * lanes + 1`` with ``vectors`` at most this.
MOST_VECTORS = 3


def _kernel_ir(module, rows, vectors, lanes):
    """The micro-kernel for ``rows`` output channels by ``vectors * lanes + 1`` outputs, as an
    internal function of ``module``: ``(w, w_row, cols, col_row, last, y, y_row, chunks,
    more)`` stores ``y[r * y_row + p] = sum_k w[r * w_row + k] * cols[k * col_row + p]`` for
    ``p < vectors * lanes`` and ``y[r * y_row + vectors * lanes] = sum_k w[r * w_row + k] *
    last[k]``, ``k < chunks * lanes`` (plus ``y``'s own values when ``more`` is not 0)."""
    name = f"convspec_column_block_{rows}x{vectors}x{lanes}"
    if name in module.globals:
        return module.globals[name]
    f32, i64, i32 = ir.FloatType(), ir.IntType(64), ir.IntType(32)
    vec = ir.VectorType(f32, lanes)
    fptr, vptr = f32.as_pointer(), vec.as_pointer()
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [fptr, i64, fptr, i64, fptr, fptr, i64, i64, i64]),
                     name=name)
    fn.linkage = "internal"
    fn.attributes.add("noinline")
    w, w_row, cols, col_row, last, y, y_row, chunks, more = fn.args
    fma_name = f"llvm.fmuladd.v{lanes}f32"
    fma = module.globals.get(fma_name) or ir.Function(module, ir.FunctionType(vec, [vec, vec, vec]), name=fma_name)
    const = lambda v: ir.Constant(i64, v)  # noqa: E731
    lane0 = ir.Constant(i32, 0)
    splat = ir.Constant(ir.VectorType(i32, lanes), [0] * lanes)
    zero = ir.Constant(vec, [0.0] * lanes)
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    rows_at = [b.mul(const(r), y_row) for r in range(rows)]
    places = [b.bitcast(b.gep(y, [b.add(rows_at[r], const(v * lanes))]), vptr)
              for r in range(rows) for v in range(vectors)]
    ends = [b.gep(y, [b.add(rows_at[r], const(vectors * lanes))]) for r in range(rows)]
    # the last output's sum so far, in lane 0 of its vector along the reduction
    loop = _blocked._loop_start(b, fn, more, chunks, w, places + ends, vec, lambda i, at: (
        b.load(at, align=4) if i < len(places) else b.insert_element(zero, b.load(at), lane0)))
    sums = list(loop.sums)
    k0 = b.mul(loop.k, const(lanes))
    rows_w = [b.gep(loop.wk, [b.mul(const(r), w_row)]) for r in range(rows)]
    along = b.load(b.bitcast(b.gep(last, [k0]), vptr), align=4)
    for r in range(rows):
        weights = b.load(b.bitcast(rows_w[r], vptr), align=4)
        sums[len(places) + r] = b.call(fma, [weights, along, sums[len(places) + r]])
    for j in range(lanes):
        at = b.gep(cols, [b.mul(b.add(k0, const(j)), col_row)])
        inputs = [b.load(b.bitcast(b.gep(at, [const(v * lanes)]), vptr), align=4) for v in range(vectors)]
        for r in range(rows):
            one = b.insert_element(ir.Constant(vec, ir.Undefined), b.load(b.gep(rows_w[r], [const(j)])), lane0)
            weight = b.shuffle_vector(one, ir.Constant(vec, ir.Undefined), splat)
            for v in range(vectors):
                sums[r * vectors + v] = b.call(fma, [weight, inputs[v], sums[r * vectors + v]])
    branch, finals = _blocked._loop_end(b, loop, const(lanes), sums, chunks)
    _unrolled_never(module, branch, name)
    for final, at in zip(finals, places):
        b.store(final, at, align=4)
    for final, at in zip(finals[len(places):], ends):  # lanes summed in order
        total = b.extract_element(final, lane0)
        for lane in range(1, lanes):
            total = b.fadd(total, b.extract_element(final, ir.Constant(i32, lane)))
        b.store(total, at)
    b.ret_void()
    return fn


@intrinsic
def _block(typingctx, lanes, rows, vectors, w, w_at, w_row, cols, cols_at, col_row, last, last_at, y, y_at, y_row,
           chunks, more):
    """``_block(lanes, rows, vectors, w, w_at, w_row, cols, cols_at, col_row, last, last_at, y,
    y_at, y_row, chunks, more)`` for Numba code: the kernel of :func:`_kernel_ir` for ``rows``
    (1 to ``ROWS[lanes]``) by ``vectors`` (1 to :data:`MOST_VECTORS`) on the arrays' data from
    those element offsets."""
    sig = types.void(types.intp, types.intp, types.intp, w, types.intp, types.intp, cols, types.intp, types.intp,
                     last, types.intp, y, types.intp, types.intp, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        (lanes_, rows_, vectors_, wa, w_at_, w_row_, ca, cols_at_, col_row_, la, last_at_, ya, y_at_, y_row_, chunks_,
         more_) = args
        data = [context.make_array(signature.args[i])(context, builder, a).data
                for i, a in ((3, wa), (6, ca), (9, la), (11, ya))]
        call = [builder.gep(data[0], [w_at_]), w_row_, builder.gep(data[1], [cols_at_]), col_row_,
                builder.gep(data[2], [last_at_]), builder.gep(data[3], [y_at_]), y_row_, chunks_, more_]
        _blocked._dispatch(builder, (lanes_, rows_, vectors_),
                           {(n, r, v): functools.partial(_kernel_ir, rows=r, vectors=v, lanes=n)
                            for n in _blocked.VECTOR_LANES for r in range(1, ROWS[n] + 1)
                            for v in range(1, MOST_VECTORS + 1)}, call)
        return context.get_dummy_value()

    return sig, codegen


@numba.njit(cache=True, nogil=True)
def _blocks(w, cols, col_row, last, y, channels, count, outputs, lanes, most_rows, slice_, ka, kb, first, last_block):
    """Blocks ``first <= i < last_block`` of ``most_rows`` output channels (the last holds the
    rest) over all ``outputs`` of the image, summed over ``ka <= k < kb`` (multiples of
    ``lanes``; ``y`` overwritten), the weights ``w`` (O, count) where they are, the reduction in
    slices of ``slice_`` (a multiple of ``lanes``: a slice of the columns stays in the
    second-level cache while the thread's blocks pass over it)."""
    vectors = outputs // lanes
    for k0 in range(ka, kb, slice_):
        n = min(slice_, kb - k0)
        for i in range(first, last_block):
            o0 = i * most_rows
            rows = min(most_rows, channels - o0)
            _block(lanes, rows, vectors, w, o0 * count + k0, count, cols, k0 * col_row, col_row, last, k0, y,
                   o0 * outputs, outputs, n // lanes, k0 - ka)


@numba.njit(cache=True, nogil=True)
def _channel_parts(x5, stride, grid, before, xb, offsets, row_at, width, w, cols, col_row, last, y, parts, written,
                   cuts, taps, lanes, most_rows, slice_, first, end):
    """The input channels ``cuts[first] <= c < cuts[end]`` of a layer on columns, all of it on
    one thread: their planes rewritten, their columns built, and every block summed over their
    ``k`` into ``y`` (``first`` 0) or ``parts[first - 1]``, ``written`` set.  The threads share
    no line of the rewritten input or the columns, and add their sums at the end
    (:func:`conv_plan`)."""
    c0, c1 = cuts[first], cuts[end]
    o, count = w.shape
    outputs = y.size // o
    _blocked._fill_planes(x5, stride, grid, before, xb, c0, c1)
    _columns(xb, offsets, row_at, width, cols, last, c0 * taps, c1 * taps)
    target = y if first == 0 else parts[first - 1]
    _blocks(w, cols.reshape(-1), col_row, last, target, o, count, outputs, lanes, most_rows, slice_, c0 * taps,
            c1 * taps, 0, -(-o // most_rows))
    written[first] = 1


@numba.njit(cache=True, nogil=True)
def _columns(xb, offsets, row_at, width, cols, last, first, end):
    """Columns ``first <= k < end`` from the plane layout's rewritten input ``xb``: output
    ``(i, j)`` (rows of ``width`` outputs, row ``i`` at ``row_at[i]`` on the phases' grid) of
    ``k`` reads ``xb[offsets[k] + row_at[i] + j]``; the outputs but the last into ``cols[k]``,
    in order, the last into ``last[k]``."""
    u = np.uint64
    rows, col_row = row_at.shape[0], cols.shape[1]
    src, dst = xb.reshape(-1), cols.reshape(-1)
    for k in range(first, end):
        at = u(k * col_row)
        for i in range(rows):
            base = u(offsets[k] + row_at[i])
            n = width if i < rows - 1 else width - 1
            for j in range(n):
                dst[at + u(j)] = src[base + u(j)]
            at += u(n)
        last[k] = src[u(offsets[k] + row_at[rows - 1] + width - 1)]


def direct(w_shape, stride, padding):
    """Whether the layer's input is its columns: 1x1, at stride 1, without padding."""
    return math.prod(w_shape[2:]) == 1 and all(s == 1 for s in stride) and not any(a or b for a, b in padding)


def picked(w_shape, padding):
    """Whether the layer's columns are its input at every stride-th position (1x1 without
    padding), picked from it by one strided copy, not from the plane layout's rewrite (which
    writes every stride phase, of which the layer reads one)."""
    return math.prod(w_shape[2:]) == 1 and not any(a or b for a, b in padding)


def applies(x_shape, w_shape, out, lanes):
    """Whether a layer runs on columns: one image in 2-D or 3-D whose product :func:`fits`."""
    return x_shape[0] == 1 and len(x_shape) >= 4 and fits(math.prod(w_shape[1:]), math.prod(out[2:]), lanes)


def fits(count, outputs, lanes):
    """Whether a product of ``count`` by ``outputs`` columns runs on columns: ``outputs`` is
    ``vectors * lanes + 1`` (at most :data:`MOST_VECTORS` vectors), the reduction whole vectors
    (the weights' rows are read a vector at a time for the last output)."""
    return outputs % lanes == 1 and 1 <= outputs // lanes <= MOST_VECTORS and count % lanes == 0


def products(u, v, m, lanes):
    """``m[xi] = u[xi] @ v[xi]`` for every plane ``xi`` (float32, each plane's matrix
    C-contiguous; a product that :func:`fits`), on columns: ``v[xi]`` is its own columns, its
    last column copied apart; the planes split over the threads.  Winograd's GEMMs on one image
    of 7x7 tiles: 16 planes of 256 x 256 by 49 in 0.47 ms against NumPy's batched matmul's 0.57
    (one thread, AMD EPYC with AVX-512)."""
    planes, rows, count = u.shape
    outputs = v.shape[2]
    last = np.ascontiguousarray(v[:, :, -1])
    macs = planes * rows * count * outputs
    in_threads(_plane_blocks, planes, macs, u, v, last, m, lanes, ROWS[lanes], _blocked.PLANE_SLICE,
               seconds=macs / _blocked.known()["blocked_macs_per_s"])


@numba.njit(cache=True, nogil=True)
def _plane_blocks(u, v, last, m, lanes, most_rows, slice_, first, end):
    """The planes ``first <= xi < end`` of :func:`products`, each by :func:`_blocks`."""
    rows, count = u.shape[1:]
    outputs = v.shape[2]
    blocks = -(-rows // most_rows)
    for xi in range(first, end):
        _blocks(u[xi], v[xi], outputs, last[xi], m[xi], rows, count, outputs, lanes, most_rows, slice_, 0, count, 0,
                blocks)


def conv_plan(x_shape, w_shape, out, stride, padding, dilation, lanes):
    """The layer (one image, :func:`applies`) as ``(x, w) -> y`` on columns: the input rewritten
    as the plane layout has it (each channel's padded volume in its stride phases), then its
    columns; a 1x1 layer without padding takes its columns from the input itself (:func:`direct`)
    or picks them from it (:func:`picked`).

    On several threads, where the columns are built, each thread takes a share of the input
    channels whole: it rewrites their planes, builds their columns and sums every output over
    their ``k`` (the shares cut at whole vectors of ``k``), and the threads' sums are added at
    the end.  Split by output channels instead, every thread read all the columns one thread had
    built, and the rewrite and the columns ran on one thread: two threads took 0.69-0.71 ms
    that way on 512 channels of 7x7 (0.61-0.63 by input channels) and 0.71-0.73 on 512 of 14x14
    at stride 2 (0.62-0.64).  Where the input is the columns (1x1), the threads take blocks of
    output channels, so that no sums are added (by input channels, 2048 channels of 7x7 from 512
    took 0.30-0.31 ms against 0.28)."""
    x5, kernel, out5, stride5, padding5, dilation5 = _blocked._lift(x_shape, w_shape, out, stride, padding, dilation)
    c = x5[1]
    o, count, outputs = w_shape[0], math.prod(w_shape[1:]), math.prod(out5)
    taps = count // c
    vectors = outputs // lanes
    most_rows = ROWS[lanes]
    macs = o * outputs * count
    seconds = macs / _blocked.known()["blocked_macs_per_s"]
    slice_ = _blocked.PLANE_SLICE
    in_place = direct(w_shape, stride, padding)
    strided = not in_place and picked(w_shape, padding)
    every = (0, slice(None)) + tuple(slice(None, None, step) for step in stride)  # of x, if strided
    if not (in_place or strided):
        grid, image, offsets, _ = _blocked._plane_input(x5, kernel, stride5, padding5, dilation5)
        before = tuple(a for a, _ in padding5)
        g = np.indices(out5[:2]).reshape(2, -1)
        row_at = (g[0] * grid[1] * grid[2] + g[1] * grid[2]).astype(np.int64)
    blocks = -(-o // most_rows)

    def run(x, w):
        x = np.ascontiguousarray(x)
        w = np.ascontiguousarray(w).reshape(o, count)
        if in_place or strided:  # (C, outputs) is the columns, and its last column the last output's inputs
            if in_place:
                cols = x.reshape(c, outputs)
            else:
                cols = scratch("blocked columns", (c, outputs), np.float32)
                cols.reshape((c,) + tuple(out[2:]))[...] = x[every]
            last = np.ascontiguousarray(cols[:, -1])
            y = result((1, o) + out5, np.float32)
            # nothing to build: the threads take blocks of output channels, the sums whole
            in_threads(_blocks, blocks, macs, w, cols.reshape(-1), outputs, last, y.reshape(-1), o, count, outputs,
                       lanes, most_rows, slice_, 0, count, seconds=seconds)
            return y.reshape(out)
        y = result((1, o) + out5, np.float32)
        cuts = _blocked.input_shares(c, taps, lanes)
        cols = scratch("blocked columns", (count, vectors * lanes), np.float32)
        last = scratch("blocked last output", (count,), np.float32)
        extra = scratch("blocked column sums", (len(cuts) - 2, o * outputs), np.float32)
        written = np.zeros(len(cuts) - 1, np.int8)
        in_threads(_channel_parts, len(cuts) - 1, macs, x.reshape(x5), stride5, grid, before,
                   scratch("blocked input", (image,), np.float32), offsets, row_at, out5[2], w, cols, vectors * lanes,
                   last, y.reshape(-1), extra, written, cuts, taps, lanes, most_rows, slice_, seconds=seconds)
        _blocked.add_shares(y.reshape(-1), extra, written)
        return y.reshape(out)

    return run
