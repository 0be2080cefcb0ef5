"""Register blocks with output channels in the vector lanes: the plane layout of
:mod:`convspec.impls._blocked` for layers of many output channels (ResNet-50's 3x3 layers from
128 channels on), where blocks along the planes compute outputs that are dropped.

A block is ``vectors`` vectors of consecutive output channels by ``positions`` consecutive
outputs of one output row (or of one depth slice, where its rows lie together on the phases'
grid).  For every ``k = (c, tap)`` the kernel loads the block's weights, a vector per
``lanes`` output channels, and broadcasts each position's input into them (eq. 9.7: the same
sums as the other layouts, float32 in ``k`` order).  Every output computed is kept: on 7x7
outputs, blocks along the plane compute 64 outputs a channel (the phases' grid is 9 wide, and
its rows up to the 49th output fill four vectors of 16), these 49.

The price is two transposes.  The weights are packed on every call (they may have changed
since the last one): each panel of ``vectors * lanes`` output channels ``(C * prod(K),
panel)``, by tiles of ``lanes x lanes`` transposed in registers.  The sums are stored a
position's channels side by side, ``(N, panels, positions, panel)``, and transposed the same
way into the output.

Where it is taken, and what it gained, measured: :func:`convspec.impls._blocked._on_channels`.
"""

import functools
import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from convspec.impls import _blocked
from convspec.impls._scratch import result, scratch
from convspec.impls._threads import in_threads

#: Vectors of output channels and positions per block, by floats per vector: 3 x 8 sums, three
#: weight vectors and a broadcast input fill 28 of AVX-512's 32 registers; 2 x 6, two and one,
#: 15 of AVX2's 16.  On 512 channels of 7x7 (one thread, AVX-512), the kernel alone: 3 x 8 ran
#: at 265-270 GFLOP/s, 2 x 12 at 257, 4 x 6 at 219, and 4 x 7 (28 sums, no register left for
#: the broadcast) at 215.
VECTORS = {8: 2, 16: 3}
POSITIONS = {8: 6, 16: 8}
#: Items a pass is cut into for the threads, at least: whole panels where there are this many.
PIECES = 8


def _unrolled_never(module, branch, name):
    """Mark the loop that ``branch`` closes as not to be unrolled.  LLVM unrolled the kernels'
    loops twice, which leaves no register free where the sums fill them: 4 x 7 sums spilled
    every one and ran at 89 GFLOP/s (215 not unrolled), and 3 x 8 ran at 252-262 against
    265-270 (512 channels of 7x7, one thread, AVX-512)."""
    off = module.add_metadata([ir.MetaDataString(module, "llvm.loop.unroll.disable")])
    loop = module.add_metadata([off, ir.MetaDataString(module, name)])
    loop.operands = (loop,) + tuple(loop.operands)  # a loop's identity refers to itself
    branch.set_metadata("llvm.loop", loop)


def _kernel_ir(module, positions, vectors, lanes):
    """The micro-kernel for ``positions`` outputs by ``vectors`` vectors of ``lanes`` output
    channels, as an internal function of ``module``: ``(w, x, offsets, y, y_step, count, more)``
    stores ``y[p * y_step + j] = sum_k w[k * vectors * lanes + j] * x[offsets[k] + p]`` (plus
    ``y``'s own value when ``more`` is not 0: a later slice of the ``k``)."""
    name = f"convspec_channel_block_{positions}x{vectors}x{lanes}"
    if name in module.globals:
        return module.globals[name]
    f32, i64, i32 = ir.FloatType(), ir.IntType(64), ir.IntType(32)
    vec = ir.VectorType(f32, lanes)
    fptr, vptr = f32.as_pointer(), vec.as_pointer()
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [fptr, fptr, i64.as_pointer(), fptr, i64, i64, i64]),
                     name=name)
    fn.linkage = "internal"
    fn.attributes.add("noinline")
    w, x, offsets, y, y_step, count, more = fn.args
    fma_name = f"llvm.fmuladd.v{lanes}f32"
    fma = module.globals.get(fma_name) or ir.Function(module, ir.FunctionType(vec, [vec, vec, vec]), name=fma_name)
    const = lambda v: ir.Constant(i64, v)  # noqa: E731
    splat = ir.Constant(ir.VectorType(i32, lanes), [0] * lanes)
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    places = [b.bitcast(b.gep(y, [b.add(b.mul(const(p), y_step), const(v * lanes))]), vptr)
              for p in range(positions) for v in range(vectors)]
    loop = _blocked._loop_start(b, fn, more, count, w, places, vec, lambda i, at: b.load(at, align=4))
    sums = loop.sums
    xk = b.gep(x, [b.load(b.gep(offsets, [loop.k]))])
    weights = [b.load(b.bitcast(b.gep(loop.wk, [const(v * lanes)]), vptr), align=4) for v in range(vectors)]
    new = []
    for p in range(positions):
        one = b.insert_element(ir.Constant(vec, ir.Undefined), b.load(b.gep(xk, [const(p)])), ir.Constant(i32, 0))
        value = b.shuffle_vector(one, ir.Constant(vec, ir.Undefined), splat)
        new += [b.call(fma, [weights[v], value, sums[p * vectors + v]]) for v in range(vectors)]
    branch, finals = _blocked._loop_end(b, loop, const(vectors * lanes), new, count)
    _unrolled_never(module, branch, name)
    for final, at in zip(finals, places):
        b.store(final, at, align=4)
    b.ret_void()
    return fn


@intrinsic
def _block(typingctx, lanes, positions, vectors, w, w_at, x, x_at, offsets, k_at, y, y_at, y_step, count, more):
    """``_block(lanes, positions, vectors, w, w_at, x, x_at, offsets, k_at, y, y_at, y_step,
    count, more)`` for Numba code: the kernel of :func:`_kernel_ir` for ``positions`` (1 to
    ``POSITIONS[lanes]``) by ``vectors`` (1 to ``VECTORS[lanes]``) on the arrays' data from
    those element offsets."""
    sig = types.void(types.intp, types.intp, types.intp, w, types.intp, x, types.intp, offsets, types.intp, y,
                     types.intp, types.intp, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        lanes_, positions_, vectors_, wa, w_at_, xa, x_at_, oa, k_at_, ya, y_at_, y_step_, count_, more_ = args
        data = [context.make_array(signature.args[i])(context, builder, a).data
                for i, a in ((3, wa), (5, xa), (7, oa), (9, ya))]
        call = [builder.gep(data[0], [w_at_]), builder.gep(data[1], [x_at_]), builder.gep(data[2], [k_at_]),
                builder.gep(data[3], [y_at_]), y_step_, count_, more_]
        _blocked._dispatch(builder, (lanes_, positions_, vectors_),
                           {(n, p, v): functools.partial(_kernel_ir, positions=p, vectors=v, lanes=n)
                            for n in _blocked.VECTOR_LANES for p in range(1, POSITIONS[n] + 1)
                            for v in range(1, VECTORS[n] + 1)}, call)
        return context.get_dummy_value()

    return sig, codegen


def transposed(b, rows):
    """The columns of the ``lanes x lanes`` tile whose rows are the vectors ``rows`` (IR values),
    built where ``b`` is: ``log2(lanes)`` rounds of two-source shuffles, each swapping one bit
    of the row's index with the same bit of the column's."""
    lanes, i32 = len(rows), ir.IntType(32)
    bit = 1
    while bit < lanes:
        low = ir.Constant(ir.VectorType(i32, lanes), [j if not j & bit else lanes + (j ^ bit) for j in range(lanes)])
        high = ir.Constant(ir.VectorType(i32, lanes), [j | bit if not j & bit else lanes + j for j in range(lanes)])
        swapped = list(rows)
        for i in range(lanes):
            if not i & bit:
                swapped[i] = b.shuffle_vector(rows[i], rows[i | bit], low)
                swapped[i | bit] = b.shuffle_vector(rows[i], rows[i | bit], high)
        rows, bit = swapped, 2 * bit
    return rows


def _transpose_ir(module, lanes):
    """``(src, src_row, dst, dst_row)``: ``dst[j * dst_row + i] = src[i * src_row + j]`` for
    ``i, j < lanes``, as an internal function of ``module``: ``lanes`` vector loads, four (or
    three) rounds of two-source shuffles (:func:`transposed`), ``lanes`` vector stores."""
    name = f"convspec_transpose_{lanes}"
    if name in module.globals:
        return module.globals[name]
    f32, i64 = ir.FloatType(), ir.IntType(64)
    vec = ir.VectorType(f32, lanes)
    fptr, vptr = f32.as_pointer(), vec.as_pointer()
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [fptr, i64, fptr, i64]), name=name)
    fn.linkage = "internal"
    src, src_row, dst, dst_row = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    rows = transposed(b, [b.load(b.bitcast(b.gep(src, [b.mul(src_row, ir.Constant(i64, i))]), vptr), align=4)
                          for i in range(lanes)])
    for j, row in enumerate(rows):
        b.store(row, b.bitcast(b.gep(dst, [b.mul(dst_row, ir.Constant(i64, j))]), vptr), align=4)
    b.ret_void()
    return fn


@intrinsic
def _transpose(typingctx, lanes, src, src_at, src_row, dst, dst_at, dst_row):
    """``_transpose(lanes, src, src_at, src_row, dst, dst_at, dst_row)`` for Numba code: the
    ``lanes x lanes`` tile of :func:`_transpose_ir` (``lanes`` one of ``VECTOR_LANES``) between
    the arrays' data from those element offsets."""
    sig = types.void(types.intp, src, types.intp, types.intp, dst, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        lanes_, sa, src_at_, src_row_, da, dst_at_, dst_row_ = args
        s = context.make_array(signature.args[1])(context, builder, sa).data
        d = context.make_array(signature.args[4])(context, builder, da).data
        call = [builder.gep(s, [src_at_]), src_row_, builder.gep(d, [dst_at_]), dst_row_]
        _blocked._dispatch(builder, (lanes_,), {(n,): functools.partial(_transpose_ir, lanes=n)
                                                for n in _blocked.VECTOR_LANES}, call)
        return context.get_dummy_value()

    return sig, codegen


def _panels(channels, lanes):
    """``(panel, panels)``: output channels per full panel, and how many panels (the last holds
    the rest, in whole vectors)."""
    panel = VECTORS[lanes] * lanes
    return panel, -(-channels // panel)


@numba.njit(cache=True, nogil=True)
def _pack(flat, p, k0, n, panel, lanes, packed):
    """Panel ``p`` of the weights ``flat`` (O, K), its ``k0 <= k < k0 + n``, into ``packed``
    as ``(n, width)``, ``width`` the panel's channels in whole vectors (zero past the last
    channel).  Tiles of ``lanes x lanes`` are transposed in registers: copied an element at a
    time, 512 x 4608 weights took 1.3-1.5 ms, ten times a plain copy."""
    o, k = flat.shape
    src = flat.reshape(-1)
    width = min(panel, -(-(o - p * panel) // lanes) * lanes)
    whole = n - n % lanes
    for r0 in range(0, width, lanes):
        row0 = p * panel + r0
        start = 0
        if row0 + lanes <= o:
            for j0 in range(0, whole, lanes):
                _transpose(lanes, src, row0 * k + k0 + j0, k, packed, j0 * width + r0, width)
            start = whole
        for r in range(r0, r0 + lanes):
            row = p * panel + r
            for j in range(start, n):
                packed[j * width + r] = src[row * k + k0 + j] if row < o else 0.0


@numba.njit(cache=True, nogil=True)
def _line(lanes, vectors, most_positions, packed, x, x_at, offsets, k0, y, y_at, panel, n, length, more):
    """One line of ``length`` outputs in blocks of ``vectors`` by at most ``most_positions``
    (added to ``y``'s sums where ``more`` is not 0)."""
    blocks = -(-length // most_positions)  # as even as they go: 49 as 7 x 7, not 6 x 8 + 1
    at = 0
    for i in range(blocks):
        here = length // blocks + (1 if i < length % blocks else 0)
        _block(lanes, here, vectors, packed, 0, x, x_at + at, offsets, k0, y, y_at + at * panel, panel, n, more)
        at += here


@numba.njit(cache=True, nogil=True)
def _blocks(w, x, offsets, y, x_lines, y_lines, outputs, channels, positions, lanes, most_vectors, most_positions,
            slice_, groups, ka, kb, first, last):
    """Items ``first <= item < last``, item ``p * groups + g``: output channels of panel ``p``
    over the ``g``-th of ``groups`` runs of the lines, line by line: ``outputs[line]`` outputs
    from ``y_lines[line]`` (an image's panel ``p`` starts at
    ``y_lines[line] + p * positions`` positions of ``panel`` sums), their inputs from
    ``x_lines[line]``, in blocks of ``most_vectors`` vectors by ``most_positions`` positions
    (:data:`VECTORS`, :data:`POSITIONS`), the weights ``w`` (O, K) where they are, summed over
    ``ka <= k < kb`` (``y`` overwritten).  The reduction runs in slices of ``slice_`` of its
    ``k``; each slice of a panel's weights is
    packed (:func:`_pack`) when the thread comes to it, into a buffer that stays in the
    second-level cache while the thread's lines pass over it.  Packed apart first, ResNet-50's
    512 x 4608 weights took 0.40 ms to pack and the blocks 0.92 ms to read them back, on 512
    channels of 7x7: more than blocks along the planes took in all (one thread)."""
    lines = x_lines.shape[0]
    panel = most_vectors * lanes
    packed = np.empty(min(slice_, kb - ka) * panel, np.float32)
    for k0 in range(ka, kb, slice_):
        n = min(slice_, kb - k0)
        held = -1
        for item in range(first, last):
            p, g = item // groups, item % groups
            if p != held:
                _pack(w, p, k0, n, panel, lanes, packed)
                held = p
            vectors = min(most_vectors, -(-(channels - p * panel) // lanes))
            for line in range(g * lines // groups, (g + 1) * lines // groups):
                _line(lanes, vectors, most_positions, packed, x, x_lines[line], offsets, k0, y,
                      (y_lines[line] + p * positions) * panel, panel, n, outputs[line], k0 - ka)


@numba.njit(cache=True, nogil=True)
def _channel_parts(x5, stride, grid, before, xb, w, offsets, y, parts, written, x_lines, y_lines, outputs, positions,
                   lanes, most_vectors, most_positions, slice_, groups, cuts, taps, first, end):
    """The input channels ``cuts[first] <= c < cuts[end]`` of one image, all of it on one
    thread: their planes rewritten, and every item's sums over their ``k`` into ``y`` (``first``
    0) or ``parts[first - 1]``, ``written`` set (:func:`conv_plan`)."""
    c0, c1 = cuts[first], cuts[end]
    o = w.shape[0]
    _blocked._fill_planes(x5, stride, grid, before, xb, c0, c1)
    target = y if first == 0 else parts[first - 1]
    panels = -(-o // (most_vectors * lanes))
    _blocks(w, xb, offsets, target, x_lines, y_lines, outputs, o, positions, lanes, most_vectors, most_positions,
            slice_, groups, c0 * taps, c1 * taps, 0, panels * groups)
    written[first] = 1


@numba.njit(cache=True, nogil=True)
def _copy_out(yb, y, lanes, first, last):
    """``y[n, p * panel + j, q] = yb[n, p, q, j]`` for the items ``first <= n * panels + p <
    last``: the sums (a position's channels side by side) into the output (N, O, positions), by
    tiles of ``lanes x lanes`` transposed in registers."""
    _, panels, positions, panel = yb.shape
    o = y.shape[1]
    src, dst = yb.reshape(-1), y.reshape(-1)
    whole = positions - positions % lanes
    for item in range(first, last):
        n, p = item // panels, item % panels
        at = item * positions * panel
        for j0 in range(0, min(panel, o - p * panel), lanes):
            row0 = n * o + p * panel + j0  # the output channel's row of y
            if p * panel + j0 + lanes <= o:
                for q0 in range(0, whole, lanes):
                    _transpose(lanes, src, at + q0 * panel + j0, panel, dst, row0 * positions + q0, positions)
                start = whole
            else:
                start = 0
            for j in range(j0, min(j0 + lanes, o - p * panel)):
                row = n * o + p * panel + j
                for q in range(start, positions):
                    dst[row * positions + q] = src[at + q * panel + j]


def computed(x_shape, w_shape, out, lanes):
    """Outputs a pass computes: every position, for the output channels in whole vectors."""
    return x_shape[0] * -(-w_shape[0] // lanes) * lanes * math.prod(out[2:])


def conv_plan(x_shape, w_shape, out, stride, padding, dilation, lanes):
    """The layer as ``(x, w) -> y`` in blocks of output channels by positions: the input
    rewritten as the plane layout of :mod:`~convspec.impls._blocked` has it (each channel's
    padded volume in its stride phases), lines along each output row (each depth slice, where
    its rows lie together on the phases' grid)."""
    x5, kernel, out5, stride5, padding5, dilation5 = _blocked._lift(x_shape, w_shape, out, stride, padding, dilation)
    n = x5[0]
    o = w_shape[0]
    grid, image, offsets, rewrite = _blocked._plane_input(x5, kernel, stride5, padding5, dilation5)
    positions = math.prod(out5)
    panel, panels = _panels(o, lanes)
    if grid[2] == out5[2]:  # an output slice's rows lie together on the grid: one line a slice
        g = np.indices((n, out5[0])).reshape(2, -1)
        x_lines = g[0] * image + g[1] * grid[1] * grid[2]
        y_lines = g[0] * panels * positions + g[1] * out5[1] * out5[2]
        width = out5[1] * out5[2]
    else:
        g = np.indices((n, out5[0], out5[1])).reshape(3, -1)
        x_lines = g[0] * image + (g[1] * grid[1] + g[2]) * grid[2]
        y_lines = g[0] * panels * positions + (g[1] * out5[1] + g[2]) * out5[2]
        width = out5[2]
    x_lines, y_lines = x_lines.astype(np.int64), y_lines.astype(np.int64)
    outputs = np.full(len(x_lines), width, np.int64)
    # panels a piece for the threads, and where there are few, runs of lines (a slice of a
    # panel's weights is packed once for each piece that comes to it)
    groups = min(len(x_lines), -(-PIECES // panels))
    count = len(offsets)
    macs = n * o * positions * count
    seconds = macs / _blocked.known()["blocked_macs_per_s"]
    c, taps = x5[1], count // x5[1]
    before = tuple(a for a, _ in padding5)

    def run(x, w):
        w = np.ascontiguousarray(w).reshape(o, count)
        yb = scratch("blocked output", (n, panels, positions, panel), np.float32)
        cuts = _blocked.input_shares(c, taps, lanes) if n == 1 else None
        if cuts is not None and len(cuts) > 2:  # one image: a share of the input channels per thread
            extra = scratch("blocked channel sums", (len(cuts) - 2, yb.size), np.float32)
            written = np.zeros(len(cuts) - 1, np.int8)
            in_threads(_channel_parts, len(cuts) - 1, macs, np.ascontiguousarray(x).reshape(x5), stride5, grid,
                       before, scratch("blocked input", (image,), np.float32), w, offsets, yb.reshape(-1), extra,
                       written, x_lines, y_lines, outputs, positions, lanes, VECTORS[lanes], POSITIONS[lanes],
                       _blocked.PLANE_SLICE, groups, cuts, taps, seconds=seconds)
            _blocked.add_shares(yb.reshape(-1), extra, written)
        else:
            xb = rewrite(x)  # no spare: no block reads past the outputs' inputs
            in_threads(_blocks, panels * groups, macs, w, xb, offsets, yb.reshape(-1), x_lines, y_lines, outputs, o,
                       positions, lanes, VECTORS[lanes], POSITIONS[lanes], _blocked.PLANE_SLICE, groups, 0, count,
                       seconds=seconds)
        y = result((n, o, positions), np.float32)
        in_threads(_copy_out, n * panels, y.size, yb, y, lanes)
        return y.reshape(out)

    return run
