"""Direct float32 convolution in register blocks, with no columns: ``auto``'s algorithm for
layers whose im2col columns cost about as much to build as the GEMM on them.

A block is ``ROWS[lanes]`` output channels (6 or 12) by two vectors of consecutive outputs.
Its sums (eq. 9.7) stay in vector registers for the whole reduction over input channels and
taps: for every ``k = (c, tap)`` the kernel loads the two vectors of inputs the tap reads
(contiguous: the input is first split into its stride phases) and broadcasts one weight per
output channel into them.  The weights are packed, a block's rows side by side, where their
packing costs little against the pass (it is done on every call: they may have changed since
the last one), and are read where they are, ``(O, C * prod(K))``, where it would not (packing
took 2.3 ms for 512 x 4608 weights, half of that layer's time); and a table gives each ``k``'s
offset in the rewritten input, so one kernel serves 1-D, 2-D and 3-D layers at any stride,
dilation and padding.

The input is rewritten once per call, zero-padded, in one of two layouts:

- lines (:func:`_line_plan`, for 1-D layers and rows that fill their vectors): the last
  axis in stride phases, cut into chunks of :data:`CHUNK` outputs with their halos, all
  channels of a row side by side, so that the rows one block reads lie together in memory;
  blocks run along each output row;
- planes (:func:`_plane_plan`, for 2-D and 3-D layers whose rows would leave vectors part
  empty, ResNet-50's 3x3 layers): each channel's plane split into its stride phases along
  every axis, and blocks run along each depth slice of the output flattened, so that they
  keep two vectors and compute a row's halo instead of the rest of its last vector.

2-D and 3-D layers of many output channels, in vectors of 16, run on the planes' input with
output channels in the lanes instead (:mod:`convspec.impls._blocked_channels`, chosen by
:func:`_on_channels`), and one image of 7x7 outputs on its columns, weights read in place
(:mod:`convspec.impls._blocked_columns`, :func:`_on_columns`, 1x1 layers too): every output
they compute is kept.

The kernel is LLVM IR built with llvmlite (Numba's own code generator) on vectors of
:data:`LANES` floats: 16 (one 512-bit register) where the host has AVX-512, else 8 (one AVX2
register, two SSE or NEON ones), which LLVM lowers to the host's vector registers.  Sums are
float32 in ``k`` order, each multiply-add fused or not as the host does it: the rounding of a
GEMM.

Measured on 2 vCPUs of an AMD EPYC (AVX2, one thread), A-B-B-A medians in one process, three
runs: the 7x7 stride-2 ResNet-50 stem on one 224x224 image took 4.3-5.0 ms by im2col (1.2 ms
of it building 7.4 MB of columns) and 2.8-3.3 ms in blocks; a 3x3 layer on 64 channels of
56x56, 3.6-3.8 and 3.3.  The kernel alone runs at 60-75 GFLOP/s, where OpenBLAS's GEMM on the
same shapes (its packing included) reaches 60-70.
"""

import functools
import math
from types import SimpleNamespace

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from convspec._contract.functions import check_conv_args, conv_output_shape
from convspec.impls import im2col
from convspec.impls.numba_direct import _copy_rows
from convspec.impls._algebra import add_bias
from convspec.impls._calibration import known
from convspec.impls._scratch import result, scratch
from convspec.impls._threads import in_threads, threads_here

#: The vector lengths the kernels are built for (floats per vector).
VECTOR_LANES = (8, 16)


def host_lanes(features=None):
    """Floats per vector on this host as Numba compiles for it: 16 with AVX-512 (the kernels'
    vectors then fill its 512-bit registers; with 8, a Xeon's FMA units run half-empty), else 8.
    ``features``: LLVM's feature string (``"+avx2,-avx512f,..."``); by default Numba's
    (``NUMBA_CPU_FEATURES``) or else the host's."""
    if features is None:
        from llvmlite import binding

        named = numba.config.CPU_NAME not in (None, "", "host")
        if named and not numba.config.CPU_FEATURES:  # Numba compiles for another CPU, of unknown features
            return 8
        features = numba.config.CPU_FEATURES or binding.get_host_cpu_features().flatten()
    return 16 if "+avx512f" in features.split(",") else 8


#: Floats per vector on this host (:func:`host_lanes`): every plan's default.
LANES = host_lanes()
#: Output channels per block (a panel of the weights), by floats per vector: ``rows`` x 2
#: vectors of sums, two input vectors and a broadcast weight fill AVX2's 16 vector registers with
#: 6 rows, and 27 of AVX-512's 32 with 12.  Twelve rows load each input vector for 24
#: multiply-adds instead of 12: on an AMD EPYC with AVX-512 (Zen 5, one thread, A-B-B-A in one
#: process), ResNet-50's 3x3 layers ran 1-5 % faster with 12 than with 6.
ROWS = {8: 6, 16: 12}


def _loop_start(b, fn, more, count, w, places, vec, load_one):
    """Open a kernel's loop over ``k < count`` in ``fn`` from ``b``'s block: the sums start at
    zero, or where ``more`` is not 0 (a later slice of the ``k``) at what ``places`` hold, each
    read by ``load_one(i, place)``.  Leaves ``b`` in the loop's body, and returns the loop's
    blocks and its phis: ``k``, ``wk`` (the weights from ``w`` on) and the ``sums``."""
    i64 = ir.IntType(64)
    entry = b.block
    load, start = fn.append_basic_block("load"), fn.append_basic_block("start")
    b.cbranch(b.icmp_signed("!=", more, ir.Constant(i64, 0)), load, start)
    b.position_at_end(load)
    loaded = [load_one(i, at) for i, at in enumerate(places)]
    b.branch(start)
    b.position_at_end(start)
    zero = ir.Constant(vec, [0.0] * vec.count)
    initial = []
    for value in loaded:
        phi = b.phi(vec)
        phi.add_incoming(zero, entry)
        phi.add_incoming(value, load)
        initial.append(phi)
    body, done = fn.append_basic_block("loop"), fn.append_basic_block("done")
    b.cbranch(b.icmp_signed(">", count, ir.Constant(i64, 0)), body, done)
    b.position_at_end(body)
    k, wk = b.phi(i64), b.phi(w.type)
    sums = [b.phi(vec) for _ in places]
    k.add_incoming(ir.Constant(i64, 0), start)
    wk.add_incoming(w, start)
    for s, value in zip(sums, initial):
        s.add_incoming(value, start)
    return SimpleNamespace(start=start, body=body, done=done, initial=initial, k=k, wk=wk, sums=sums)


def _loop_end(b, loop, w_step, new, count):
    """Close the loop of :func:`_loop_start` after a body that computed the ``new`` sums (the
    weights a step on by ``w_step`` elements), and leave ``b`` after it: ``(branch, finals)``,
    the loop's closing branch and the sums when it is done (or never ran)."""
    k_next = b.add(loop.k, ir.Constant(ir.IntType(64), 1))
    loop.k.add_incoming(k_next, loop.body)
    loop.wk.add_incoming(b.gep(loop.wk, [w_step]), loop.body)
    for s, n in zip(loop.sums, new):
        s.add_incoming(n, loop.body)
    branch = b.cbranch(b.icmp_signed("<", k_next, count), loop.body, loop.done)
    b.position_at_end(loop.done)
    finals = []
    for value, n in zip(loop.initial, new):
        final = b.phi(value.type)
        final.add_incoming(value, loop.start)
        final.add_incoming(n, loop.body)
        finals.append(final)
    return branch, finals


def _kernel_ir(module, rows, vectors, lanes, packed):
    """The micro-kernel for ``rows`` output channels by ``vectors`` vectors of ``lanes``
    outputs, as an internal function of ``module``: ``(w, x, offsets, y, y_row, count, valid,
    more, w_row, w_step, stream)`` stores ``y[r * y_row + i] = sum_k w[r * w_row + k * w_step] *
    x[offsets[k] + i]`` (plus ``y``'s own value when ``more`` is not 0: a later slice of the
    ``k``) for the first ``valid`` of the last vector's outputs and all of the others' (masked:
    no output is padded).  ``packed``: the weights are as :func:`pack` leaves them, ``w_row`` 1
    and ``w_step`` ``rows`` whatever the arguments say, so that their loads take constant
    offsets; with strides known only at run time, LLVM adds the stride once per row, a chain of
    ``rows`` additions in every step of the loop (the 7x7 stem on 3 channels ran 8 % faster
    with constants: one thread, AVX-512, A-B-B-A in one process).  ``stream`` not 0: a block of
    whole vectors whose stores are all aligned to a vector (``y`` and its row stride) writes
    them past the caches (non-temporal stores; the caller fences once its blocks are done)."""
    name = f"convspec_block_{rows}x{vectors}x{lanes}{'p' if packed else ''}"
    if name in module.globals:
        return module.globals[name]
    f32, i64, i32 = ir.FloatType(), ir.IntType(64), ir.IntType(32)
    vec = ir.VectorType(f32, lanes)
    fptr, vptr = f32.as_pointer(), vec.as_pointer()
    bits = ir.VectorType(ir.IntType(1), lanes)
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [fptr, fptr, i64.as_pointer(), fptr] + [i64] * 7),
                     name=name)
    fn.linkage = "internal"
    fn.attributes.add("noinline")  # its own register allocation, whatever loops call it
    w, x, offsets, y, y_row, count, valid, more, w_row, w_step, stream = fn.args
    if packed:
        w_row, w_step = ir.Constant(i64, 1), ir.Constant(i64, rows)

    def intrinsic_fn(name, returns, *arguments):
        return module.globals.get(name) or ir.Function(module, ir.FunctionType(returns, arguments), name=name)

    fma = intrinsic_fn(f"llvm.fmuladd.v{lanes}f32", vec, vec, vec, vec)
    masked_load = intrinsic_fn(f"llvm.masked.load.v{lanes}f32.p0v{lanes}f32", vec, vptr, i32, bits, vec)
    masked_store = intrinsic_fn(f"llvm.masked.store.v{lanes}f32.p0v{lanes}f32", ir.VoidType(), vec, vptr, i32, bits)
    zero = ir.Constant(vec, [0.0] * lanes)
    const = lambda v: ir.Constant(i64, v)  # noqa: E731
    lane0 = ir.Constant(i32, 0)
    splat = ir.Constant(ir.VectorType(i32, lanes), [0] * lanes)
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    lane_numbers = ir.Constant(ir.VectorType(i64, lanes), list(range(lanes)))
    limit = b.shuffle_vector(b.insert_element(ir.Constant(ir.VectorType(i64, lanes), ir.Undefined), valid, lane0),
                             ir.Constant(ir.VectorType(i64, lanes), ir.Undefined), splat)
    mask = b.icmp_signed("<", lane_numbers, limit)
    places = [b.bitcast(b.gep(y, [b.add(b.mul(const(r), y_row), const(v * lanes))]), vptr)
              for r in range(rows) for v in range(vectors)]
    # the last vector's lanes past the line are never read
    loop = _loop_start(b, fn, more, count, w, places, vec, lambda i, at: (
        b.call(masked_load, [at, ir.Constant(i32, 4), mask, zero]) if i % vectors == vectors - 1
        else b.load(at, align=4)))
    k, wk, sums = loop.k, loop.wk, loop.sums
    xk = b.gep(x, [b.load(b.gep(offsets, [k]))])
    inputs = [b.load(b.bitcast(b.gep(xk, [const(v * lanes)]), vptr), align=4) for v in range(vectors)]
    new = []
    for r in range(rows):
        one = b.insert_element(ir.Constant(vec, ir.Undefined), b.load(b.gep(wk, [b.mul(w_row, const(r))])), lane0)
        weight = b.shuffle_vector(one, ir.Constant(vec, ir.Undefined), splat)
        new += [b.call(fma, [weight, inputs[v], sums[r * vectors + v]]) for v in range(vectors)]
    finals = _loop_end(b, loop, w_step, new, count)[1]
    whole, part, end = fn.append_basic_block("whole"), fn.append_basic_block("part"), fn.append_basic_block("end")
    streamed, stored = fn.append_basic_block("streamed"), fn.append_basic_block("stored")
    b.cbranch(b.icmp_signed("==", valid, const(lanes)), whole, part)  # masked stores only where needed:
    b.position_at_end(whole)  # they are microcoded and slow on AMD's cores
    # streamed past the caches where asked and every vector is aligned (y and its row stride)
    misaligned = b.and_(b.or_(b.ptrtoint(y, i64), b.mul(y_row, const(4))), const(4 * lanes - 1))
    b.cbranch(b.and_(b.icmp_signed("!=", stream, const(0)), b.icmp_signed("==", misaligned, const(0))),
              streamed, stored)
    nontemporal = module.add_metadata([ir.Constant(i32, 1)])
    for block, masked, streaming in ((stored, False, False), (streamed, False, True), (part, True, False)):
        b.position_at_end(block)
        for i, (value, at) in enumerate(zip(finals, places)):
            if masked and i % vectors == vectors - 1:
                b.call(masked_store, [value, at, ir.Constant(i32, 4), mask])
            elif streaming:
                b.store(value, at, align=4 * lanes).set_metadata("nontemporal", nontemporal)
            else:
                b.store(value, at, align=4)
        b.branch(end)
    b.position_at_end(end)
    b.ret_void()
    return fn


def _dispatch(builder, values, kernels, call):
    """Call, where ``builder`` is, the kernel keyed by ``values`` (run-time integers, each below
    1000) with the arguments ``call``: ``kernels`` maps each key (a tuple of constants) to
    ``module -> function``, which builds it in the caller's module; one switch on the key read
    as one number."""
    i64 = ir.IntType(64)
    kind = ir.Constant(i64, 0)
    for value in values:
        kind = builder.add(builder.mul(kind, ir.Constant(i64, 1000)), value)
    done = builder.append_basic_block("kernel.done")
    switch = builder.switch(kind, done)
    for key, make in kernels.items():
        case = builder.append_basic_block("kernel." + "x".join(map(str, key)))
        switch.add_case(ir.Constant(i64, functools.reduce(lambda a, b: a * 1000 + b, key, 0)), case)
        builder.position_at_end(case)
        builder.call(make(builder.module), call)
        builder.branch(done)
    builder.position_at_end(done)


@intrinsic
def _block(typingctx, lanes, rows, vectors, packed, w, w_at, x, x_at, offsets, k_at, y, y_at, y_row, count, valid,
           more, w_row, w_step, stream):
    """``_block(lanes, rows, vectors, packed, w, w_at, x, x_at, offsets, k_at, y, y_at, y_row,
    count, valid, more, w_row, w_step, stream)`` for Numba code: the kernel of :func:`_kernel_ir` for
    ``rows`` (1 to ``ROWS[lanes]``) by ``vectors`` (1 or 2) of ``lanes`` (one of
    :data:`VECTOR_LANES`), its weights packed or not (``packed`` 1 or 0), on the arrays' data
    from those element offsets (:func:`_dispatch` to the kernel of that kind)."""
    sig = types.void(types.intp, types.intp, types.intp, types.intp, w, types.intp, x, types.intp, offsets, types.intp,
                     y, types.intp, types.intp, types.intp, types.intp, types.intp, types.intp, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        (lanes_, rows_, vectors_, packed_, wa, w_at_, xa, x_at_, oa, k_at_, ya, y_at_, y_row_, count_, valid_, more_,
         w_row_, w_step_, stream_) = args
        data = [context.make_array(signature.args[i])(context, builder, a).data
                for i, a in ((4, wa), (6, xa), (8, oa), (10, ya))]
        call = [builder.gep(data[0], [w_at_]), builder.gep(data[1], [x_at_]), builder.gep(data[2], [k_at_]),
                builder.gep(data[3], [y_at_]), y_row_, count_, valid_, more_, w_row_, w_step_, stream_]
        _dispatch(builder, (packed_, lanes_, rows_, vectors_),
                  {(p, n, r, v): functools.partial(_kernel_ir, rows=r, vectors=v, lanes=n, packed=bool(p))
                   for p in (0, 1) for n in VECTOR_LANES for r in range(1, ROWS[n] + 1) for v in (1, 2)}, call)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _fence(typingctx):
    """``_fence()`` for Numba code: a sequentially consistent fence (on x86 an ``mfence``), so
    that the non-temporal stores before it are seen by any thread that then reads the output."""

    def codegen(context, builder, signature, args):
        builder.fence("seq_cst")
        return context.get_dummy_value()

    return types.void(), codegen


@numba.njit(cache=True, nogil=True)
def _blocks(w, packed, x, offsets, y, x_lines, y_lines, outputs, channels, y_row, slice_, group, lanes, panel,
            stream, first, last):
    """Lines ``first <= line < last``: ``outputs[line]`` outputs from ``y_lines[line]`` in the
    output, their inputs from ``x_lines[line]``, in blocks of two vectors of ``lanes`` (the
    last of one or two vectors, its last vector stored masked).  The reduction runs in slices
    of ``slice_`` of its ``k`` (a block's inputs of one slice stay in the first-level cache),
    and each slice's weights in groups of ``group`` panels of ``panel`` output channels (a
    group's weights stay in the second-level cache while it passes over every block of the
    lines).  The weights ``w`` are as :func:`pack` leaves them if ``packed``, else ``(O,
    count)``.  ``stream``: whole, aligned blocks are stored past the caches, then fenced."""
    count = offsets.shape[0]
    panels = -(-channels // panel)
    width = 2 * lanes
    for k0 in range(0, count, slice_):
        n = min(slice_, count - k0)
        for g in range(0, panels, group):
            for line in range(first, last):
                for at in range(0, outputs[line], width):
                    here = min(width, outputs[line] - at)
                    vectors = (here + lanes - 1) // lanes
                    valid = here - (vectors - 1) * lanes
                    x_at, y_at = x_lines[line] + at, y_lines[line] + at
                    for p in range(g, min(panels, g + group)):
                        rows = min(panel, channels - p * panel)
                        if packed:  # (panel, k, rows)
                            w_at, w_row, w_step = p * panel * count + k0 * rows, 1, rows
                        else:
                            w_at, w_row, w_step = p * panel * count + k0, count, 1
                        _block(lanes, rows, vectors, 1 if packed else 0, w, w_at, x, x_at, offsets, k0, y,
                               y_at + p * panel * y_row, y_row, n, valid, k0, w_row, w_step, 1 if stream else 0)
    if stream:
        _fence()


@numba.njit(cache=True, nogil=True)
def _fill(x, before, s, chunk, xb):
    """``xb[n, j, d, h, c, p, q]``: ``x`` (N, C, D, H, W, C-ordered) zero-padded by ``before``
    (d, h, w) at padded position (d, h, (j * chunk + q) * s + p).  Flat unsigned indices: with
    signed indices, the copies ran at 2.2 ns an element, a third of a 3x3 layer's time."""
    n_, c_, d_, h_, w_ = x.shape
    chunks, dp, hp, q_ = xb.shape[1], xb.shape[2], xb.shape[3], xb.shape[6]
    src, dst = x.reshape(-1), xb.reshape(-1)
    u = np.uint64
    at = 0
    for n in range(n_):
        for j in range(chunks):
            for dd in range(dp):
                di = dd - before[0]
                for hh in range(hp):
                    hi = hh - before[1]
                    inside = 0 <= di < d_ and 0 <= hi < h_
                    for c in range(c_):
                        row = (((n * c_ + c) * d_ + di) * h_ + hi) * w_
                        for p in range(s):
                            first = j * chunk * s + p - before[2]  # input position of q = 0
                            lo, end = 0, 0  # the q that read the input: lo <= q < end
                            if inside:
                                lo = min(q_, 0 if first >= 0 else (s - 1 - first) // s)
                                end = max(lo, min(q_, (w_ - 1 - first) // s + 1))
                            for q in range(lo):
                                dst[at + q] = 0.0
                            # unsigned indices from here (a signed index is tested for wraparound
                            # on every access, which keeps a loop from vectorising)
                            to, since, count = u(at + lo), u(row + first + lo * s), end - lo
                            if s == 1:
                                for q in range(count):
                                    dst[to + u(q)] = src[since + u(q)]
                            elif s == 2:  # a constant stride: vectorised with shuffles
                                for q in range(count):
                                    dst[to + u(q)] = src[since + u(2) * u(q)]
                            else:
                                for q in range(count):
                                    dst[to + u(q)] = src[since + u(s) * u(q)]
                            for q in range(end, q_):
                                dst[at + q] = 0.0
                            at += q_


def applies(x_shape, w_shape, dtype, groups, out):
    """Whether a layer can run in blocks: float32, one group, 1-D to 3-D, something to compute,
    and more than one tap (a 1x1 layer's input is its GEMM's operand already) or columns
    (:func:`_on_columns`, where a GEMM of 49 columns ran at 0.7 of OpenBLAS's rate)."""
    return (np.dtype(dtype) == np.float32 and groups == 1 and 3 <= len(x_shape) <= 5 and math.prod(out) > 0
            and math.prod(x_shape) > 0 and (math.prod(w_shape[2:]) > 1 or _on_columns(x_shape, w_shape, out, LANES)))


def _chunks(width, taps, dilation, stride, lanes):
    """``(chunk, chunks, q)``: outputs per chunk of a line of ``width`` outputs (whole blocks
    of two vectors of ``lanes``: :data:`CHUNK`, or twice the halo where that is longer, at most
    the line), how many chunks, and each chunk's inputs per stride phase (its outputs and the
    halo the last axis's ``taps`` reach)."""
    block, halo = 2 * lanes, (taps - 1) * dilation // stride
    chunk = min(max(CHUNK, -(-2 * halo // block) * block), -(-width // block) * block)
    return chunk, -(-width // chunk), chunk + halo


def _on_planes(x_shape, w_shape, out, stride, padding, dilation, lanes):
    """Whether a layer runs by :func:`_plane_plan`: 2-D and 3-D layers where the phases' grid
    computes fewer outputs than rows of whole vectors of ``lanes`` would (rows of 56 outputs
    run as 64 in vectors of 16, where the grid of a 3x3 layer computes 58 a row), and those
    whose output rows fit in one vector where the grid computes at most twice as many (one
    vector a row cannot hide the multiply-add's latency; a kernel as wide as its input, as text
    models have, gives rows of one output on a grid as wide as the input: those stay on lines).

    Measured on an AMD EPYC with AVX-512 (Zen 5), one thread, three A-B-B-A rounds in one
    process, lines against planes (ratio of times, above 1: planes faster), 16 and 8 lanes:
    64 channels of 56x56 1.058 and 1.021 (at 8 lanes the rows fill their vectors: lines kept),
    128 channels 56x56 to 28x28 at stride 2 1.125 and 1.120 (1.47 and 1.41 at batch 8), 128
    channels of 28x28 1.024 and 1.049; the 7x7 stem on 3 channels of 224x224, whose grid
    computes more, 0.909 and 0.910."""
    if len(x_shape) < 4:
        return False
    on_grid, in_rows = _computed(x_shape, w_shape, out, stride, padding, dilation, lanes)
    return on_grid < in_rows or (out[-1] <= lanes and on_grid <= 2 * in_rows)


def _computed(x_shape, w_shape, out, stride, padding, dilation, lanes):
    """``(on_grid, in_rows)``: the outputs a pass computes for one output channel of one image
    on planes (each depth slice on the phases' grid up to its last output) and on lines (every
    row in whole vectors), in vectors of ``lanes``."""
    x5, _, out5, stride5, padding5, _ = _lift(x_shape, w_shape, out, stride, padding, dilation)
    on_grid = out5[0] * -(-_flat(out5, _grid(x5, padding5, stride5)) // lanes) * lanes
    return on_grid, out5[0] * out5[1] * -(-out5[2] // lanes) * lanes


def _grid(x5, padding, stride):
    """Each stride phase's extent along each axis of the padded input, ``(D', H', W')``."""
    return tuple(-(-(size + a + b) // s) for size, (a, b), s in zip(x5[2:], padding, stride))


def _flat(out5, grid):
    """Outputs a plane pass computes for one depth slice of one output channel of one image:
    ``(b, e)`` on the phases' grid up to the slice's last output."""
    return (out5[1] - 1) * grid[2] + out5[2]


def _on_columns(x_shape, w_shape, out, lanes):
    """Whether a layer runs on columns (:mod:`~convspec.impls._blocked_columns`): one image
    whose output plane is whole vectors of 16 and one output more (7x7), the reduction whole
    vectors.

    Measured on an AMD EPYC with AVX-512 (Zen 5), one thread, A-B-B-A in one process, at batch
    1: ResNet-50's 3x3 layers on 512 channels of 7x7 1.04 ms against 1.11 with channels in the
    lanes, at stride 2 from 14x14 1.16 against 1.19 (the columns cost 0.07 ms, the blocks run at
    255 GFLOP/s); its 1x1 layers to 7x7 against im2col and OpenBLAS, 512 to 2048 channels 0.44
    against 0.58, 2048 to 512 0.44 against 0.58, 1024 of 14x14 to 2048 at stride 2 0.97 against
    1.15, and MobileNetV2's 320 to 1280 0.165 against 0.220.  Not measured with vectors of 8."""
    from convspec.impls import _blocked_columns

    return lanes == 16 and _blocked_columns.applies(x_shape, w_shape, out, lanes)


def _on_channels(x_shape, w_shape, lanes):
    """Whether a layer runs with output channels in the lanes (:mod:`~convspec.impls._blocked_channels`):
    2-D and 3-D layers of at least two full panels of output channels, in vectors of 16.

    Measured on an AMD EPYC with AVX-512 (Zen 5), one thread, A-B-B-A in one process, along
    the planes or lines against channels in the lanes (ratio of times, above 1: channels
    faster): ResNet-50's 3x3 layers at batch 1, 0.95-0.97 on 64 channels of 56x56 (one full
    panel and a vector), 1.05 on 128 of 56x56 at stride 2, 1.05-1.09 on 128 of 28x28, 1.06-1.08
    on 256 at stride 2, 1.05-1.08 on 256 of 14x14, 1.0-1.08 on 512 at stride 2, 1.05-1.13 on
    512 of 7x7; at batch 8 1.09-1.23 on those six; the 7x7 stem on 3 channels 0.95-0.98;
    video's 3x3x3 layers on 128 and 256 channels 1.04-1.11, on 64 channels of 16x112x112
    (whose outputs are streamed past the caches along the planes) 0.67.  Not measured with
    vectors of 8 (AVX2): those keep the planes and lines."""
    from convspec.impls import _blocked_channels

    return lanes == 16 and len(x_shape) >= 4 and w_shape[0] >= 2 * _blocked_channels.VECTORS[lanes] * lanes


def work(x_shape, w_shape, out, stride, padding, dilation, lanes):
    """``(bytes, outputs)``: the input as the kernel reads it (rewritten on every call), and the
    outputs computed (whole vectors of ``lanes``; on planes, the phases' grid; with channels in
    the lanes, every position for the channels in whole vectors)."""
    on_grid, in_rows = _computed(x_shape, w_shape, out, stride, padding, dilation, lanes)
    if _on_columns(x_shape, w_shape, out, lanes):  # the columns, built from the input rewritten
        from convspec.impls import _blocked_columns

        written = 0 if _blocked_columns.direct(w_shape, stride, padding) else math.prod(w_shape[1:]) * 4
        return written * math.prod(out[2:]), w_shape[0] * math.prod(out[2:])
    channels = _on_channels(x_shape, w_shape, lanes)
    if channels or _on_planes(x_shape, w_shape, out, stride, padding, dilation, lanes):  # the planes' input
        from convspec.impls import _blocked_channels

        x5, _, _, stride5, padding5, _ = _lift(x_shape, w_shape, out, stride, padding, dilation)
        return (x_shape[0] * x_shape[1] * math.prod(stride) * math.prod(_grid(x5, padding5, stride5)) * 4,
                _blocked_channels.computed(x_shape, w_shape, out, lanes) if channels
                else x_shape[0] * w_shape[0] * on_grid)
    _, chunks, q = _chunks(out[-1], w_shape[-1], dilation[-1], stride[-1], lanes)
    spans = math.prod(sz + a + b for sz, (a, b) in zip(x_shape[2:-1], padding[:-1]))
    return x_shape[0] * x_shape[1] * chunks * spans * stride[-1] * q * 4, x_shape[0] * w_shape[0] * in_rows


@numba.njit(cache=True, nogil=True)
def _pack(flat, panel, packed):
    """:func:`pack` into ``packed`` (read row by row: a NumPy transpose of 512 x 4608 weights
    took 7.6 ms, 7.5 times a plain copy)."""
    o, k = flat.shape
    panels = o // panel
    rest = o - panels * panel
    for p in range(panels):
        base = p * k * panel
        for r in range(panel):
            row = flat[p * panel + r]
            for j in range(k):
                packed[base + j * panel + r] = row[j]
    base = panels * k * panel
    for r in range(rest):
        row = flat[panels * panel + r]
        for j in range(k):
            packed[base + j * rest + r] = row[j]


def pack(w, panel):
    """``w`` (O, C, *K) as the kernel reads it in panels of ``panel`` output channels: full
    panels ``(O // panel, C * prod(K), panel)`` then the last ``O % panel`` channels ``(C *
    prod(K), O % panel)``, flat."""
    flat = np.ascontiguousarray(w).reshape(w.shape[0], -1)
    packed = np.empty(flat.size, dtype=np.float32)
    _pack(flat, panel, packed)
    return packed


#: Outputs per chunk of a long last axis: a chunk's inputs of every channel sit together
#: (``(chunk, C, ...)``), so a block's loads touch few pages.  With each channel's whole row
#: apart instead, a 1-D layer of 64 channels of 16000 read 64 pages per block and ran at a
#: quarter of the speed of one of 8000.  A chunk is at least twice its halo, so that the rewrite
#: copies each input at most 1.5 times: a WaveNet layer (3 taps 512 apart on 64 channels of
#: 16000) rewrote its input 5 times in chunks of 256 and took 7.8 ms, 6.7 in chunks of 2048
#: (one thread, A-B-B-A in one process).
CHUNK = 256
#: A plane pass of rows that fit in one vector: its reduction in slices of this many ``k`` and
#: its weights in groups of panels of this many output channels in all (96 KB of weights, reused
#: by every block of the pass while in cache).  Such a pass
#: has few blocks (four for a 7x7 output), and without slices each block streamed all the
#: weights again: 5.4 and 6.4 ms against 3.7 and 4.3 with slices for ResNet-50's 512-channel
#: 3x3 stride-2 layer (one thread, two runs of A-B-B-A rounds).  Lines have many blocks of their
#: own, and slices made them 1-6 % slower.
PLANE_SLICE, PLANE_GROUP = 1024, 24
#: Weights are packed (each panel's ``k`` in order, its weights side by side) for passes of at
#: least this many multiply-adds per weight, and read where they are for the others.  Packing
#: costs a pass over the weights on every call, and reading them in place slows the kernel:
#: one thread, two A-B-B-A rounds, packed against in place, the stem (12544 multiply-adds a
#: weight) took 3.40 ms against 3.87 and 64 channels of 56x56 (3136) 3.52 against 3.63, but
#: 128 channels at stride 2 to 28x28 (784) 4.09 against 3.85, and 512 channels of 7x7 8.2
#: against 4.4.
PACK_ABOVE = 2048
#: Lines an image's plane pass is cut into, where its blocks allow (a line holds at least one
#: block of two vectors and at most :data:`CHUNK` outputs), so that threads taking them in turn
#: end together.  Cut in two or more lines of up to 256 outputs, 128 channels of 56x56 at stride
#: 2 (811 outputs on the grid) made four lines, one of them 43 outputs; in seven, two threads
#: ran the layer 1.09 times faster (128 channels of 28x28: 1.045; one thread: unchanged).  Lines
#: of two blocks at least left a 7x7 layer's pass (61 outputs on the grid) in one line, which
#: two threads then ran 1.7 times slower than in two.
PLANE_LINES = 8
#: No slices: one pass over all ``k`` and all panels.
WHOLE = 1 << 62


@functools.lru_cache(maxsize=1)
def last_level_cache():
    """This machine's largest data cache in bytes (Linux's ``/sys/devices/system/cpu``), or
    None where it cannot be read."""
    import glob

    sizes = []
    for index in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*"):
        try:
            with open(f"{index}/type") as f:
                if f.read().strip() not in ("Data", "Unified"):
                    continue
            with open(f"{index}/size") as f:
                text = f.read().strip()
        except OSError:
            continue
        scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        digits = text.rstrip("KMG")
        if digits.isdigit():
            sizes.append(int(digits) * scale)
    return max(sizes, default=None)


def streams(output_bytes):
    """Whether a pass writing ``output_bytes`` of output stores them past the caches: where they
    are more than the last-level cache holds, so that no layer after it could find them there
    anyway, and a store that first reads its line in (as a cached store does) would only double
    the memory traffic.  A 3x3x3 layer on 3 channels of 16x112x112 (51 MB of output; 32 MB of
    last-level cache) took 11.7 ms streamed into fresh memory against 13.6 cached into reused
    memory (one thread, AMD EPYC with AVX-512, A-B-B-A in one process)."""
    cache = last_level_cache()
    return cache is not None and output_bytes > cache


def _lift(x_shape, w_shape, out, stride, padding, dilation):
    """1-D and 2-D layers as 3-D ones with leading axes of one: ``(x5, kernel, out5, stride,
    padding, dilation)``."""
    lift = 5 - len(x_shape)
    return (x_shape[:2] + (1,) * lift + x_shape[2:], (1,) * lift + w_shape[2:], (1,) * lift + out[2:],
            (1,) * lift + stride, ((0, 0),) * lift + padding, (1,) * lift + dilation)


@functools.lru_cache(maxsize=256)
def conv_plan(x_shape, w_shape, out, stride, padding, dilation, lanes):
    """The layer (validated float32 arguments of these shapes, one group) as ``(x, w) -> y``,
    in vectors of ``lanes`` (:data:`LANES` on this host; any of :data:`VECTOR_LANES` computes
    the same sums): on columns where :func:`_on_columns`, with output channels in the lanes
    where :func:`_on_channels`, else by :func:`_plane_plan` where :func:`_on_planes`, else by
    :func:`_line_plan`."""
    if lanes not in VECTOR_LANES:
        raise ValueError(f"lanes={lanes!r}, but should be one of {VECTOR_LANES}")
    if _on_columns(x_shape, w_shape, out, lanes):
        from convspec.impls import _blocked_columns

        return _blocked_columns.conv_plan(x_shape, w_shape, out, stride, padding, dilation, lanes)
    if _on_channels(x_shape, w_shape, lanes):
        from convspec.impls import _blocked_channels

        return _blocked_channels.conv_plan(x_shape, w_shape, out, stride, padding, dilation, lanes)
    plan = _plane_plan if _on_planes(x_shape, w_shape, out, stride, padding, dilation, lanes) else _line_plan
    return plan(x_shape, w_shape, out, stride, padding, dilation, lanes)


def _line_plan(x_shape, w_shape, out, stride, padding, dilation, lanes):
    """Blocks along the lines of the last output axis, cut into chunks (:func:`_chunks`)."""
    x5, kernel, out5, stride, padding, dilation = _lift(x_shape, w_shape, out, stride, padding, dilation)
    n, c = x5[:2]
    o = w_shape[0]
    s, d = stride[-1], dilation[-1]
    width = out5[-1]
    chunk, chunks, q = _chunks(width, kernel[-1], d, s, lanes)
    spans = [sz + a + b for sz, (a, b) in zip(x5[2:4], padding[:2])]
    x_buffer = (n, chunks, spans[0], spans[1], c, s, q)
    st = np.cumprod((1,) + x_buffer[:0:-1])[::-1]  # elements per step along each axis
    taps = np.indices((c,) + kernel).reshape(4, -1)
    last = taps[3] * d
    offsets = (taps[0] * st[4] + taps[1] * dilation[0] * st[2] + taps[2] * dilation[1] * st[3] + last % s * st[5]
               + last // s).astype(np.int64)
    # lines: (image, chunk, output depth, output row), each along its chunk of the last axis
    y_buffer = (n, o, out5[0], out5[1], width)
    g = np.indices((n, chunks, out5[0], out5[1])).reshape(4, -1)
    x_lines = (g[0] * st[0] + g[1] * st[1] + g[2] * stride[0] * st[2] + g[3] * stride[1] * st[3]).astype(np.int64)
    y_row = out5[0] * out5[1] * width
    y_lines = (g[0] * o * y_row + (g[2] * out5[1] + g[3]) * width + g[1] * chunk).astype(np.int64)
    outputs = np.where(g[1] == chunks - 1, width - (chunks - 1) * chunk, chunk).astype(np.int64)
    before = np.array([a for a, _ in padding], dtype=np.int64)
    passes = _passes(o, offsets, x_lines, y_lines, outputs, y_row, math.prod(y_buffer) * len(offsets), WHOLE, WHOLE,
                     lanes, streams(4 * math.prod(y_buffer)))

    def run(x, w):
        xb = scratch("blocked input", x_buffer, np.float32)
        _fill(np.ascontiguousarray(x).reshape(x5), before, s, chunk, xb)
        y = result(y_buffer, np.float32)
        passes(w, xb, y)
        return y.reshape(out)

    return run


def _plane_chunk(flat, depth, width):
    """Outputs per line of a plane pass whose image has ``depth`` slices of ``flat`` outputs,
    in blocks of ``width``: about :data:`PLANE_LINES` lines an image, of whole blocks, at most
    :data:`CHUNK` outputs."""
    return min(CHUNK, max(width, -(-depth * flat // (PLANE_LINES * width)) * width))


def _plane_offsets(c, kernel, stride, dilation, grid):
    """Each ``k = (c, tap)``'s offset in an image of the plane layout (``c`` channels, each
    its stride phases of the ``grid``): where the phase element of output ``(0, 0, 0)`` that
    the tap reads lies."""
    phases, plane = math.prod(stride), math.prod(grid)
    taps = np.indices((c,) + kernel).reshape(4, -1)
    shift = [taps[i + 1] * dilation[i] for i in range(3)]
    phase = (shift[0] % stride[0] * stride[1] + shift[1] % stride[1]) * stride[2] + shift[2] % stride[2]
    return (taps[0] * phases * plane + phase * plane + shift[0] // stride[0] * grid[1] * grid[2]
            + shift[1] // stride[1] * grid[2] + shift[2] // stride[2]).astype(np.int64)


def input_shares(c, taps, lanes):
    """Where one image's ``c`` input channels are cut into a share per thread
    (:func:`~convspec.impls._threads.threads_here`), each share whole vectors of ``k = (channel,
    tap)``: ``shares + 1`` cuts, one share where there are fewer channels than that takes."""
    unit = lanes // math.gcd(taps, lanes)  # channels of whole vectors of k
    shares = threads_here() if c >= threads_here() * unit else 1
    return np.array([round(c * i / shares / unit) * unit for i in range(shares)] + [c], np.int64)


def add_shares(y, extra, written):
    """The sums of shares ``i >= 1`` that a thread wrote (``written[i]``) into ``extra[i - 1]``,
    added into ``y`` (flat), where share 0's went."""
    for i in range(1, len(written)):
        if written[i]:
            y += extra[i - 1]


def _plane_input(x5, kernel, stride, padding, dilation, spare=0):
    """The plane layout's input for ``x`` of shape ``x5`` (each channel's padded volume in its
    stride phases of the ``grid``): ``(grid, image, offsets, rewrite)``, ``image`` the elements
    of one image, ``offsets`` each ``k``'s (:func:`_plane_offsets`), ``rewrite(x)`` the input
    rewritten into scratch (:func:`_fill_planes`, split by channel over the threads), with
    ``spare`` zeros after it."""
    n, c = x5[:2]
    grid = _grid(x5, padding, stride)
    image = c * math.prod(stride) * math.prod(grid)
    offsets = _plane_offsets(c, kernel, stride, dilation, grid)
    before = tuple(a for a, _ in padding)

    def rewrite(x):
        xb = scratch("blocked input", (n * image + spare,), np.float32)
        xb[n * image:] = 0.0
        in_threads(_fill_planes, n * c, n * image, np.ascontiguousarray(x).reshape(x5), stride, grid, before, xb)
        return xb

    return grid, image, offsets, rewrite


def _plane_plan(x_shape, w_shape, out, stride, padding, dilation, lanes):
    """Blocks along each depth slice of each image's output, flat: every input channel's padded
    plane is split into its stride phases along each axis (``(D', H', W')`` each), so that output
    ``(a, b, e)`` of a tap reads phase element ``(a, b, e) + (tap's shift)``, and the outputs of
    a slice ``a`` run as one line over ``(b, e)`` on the phases' grid (its ``e >= out_w``
    computed and dropped).  A slice at a time, not the volume flat, so that the grid's rows
    between slices are not computed: a 3x3x3 layer's pass over 256 channels of 4x14x14 computed
    992 outputs per channel flat, 896 by slices.  A layer whose output rows fit in one vector
    (ResNet-50's 7x7 layers) runs in two-vector blocks this way instead of one-vector blocks of
    one row, whose six sums per input cannot hide the multiply-add's latency; one whose rows end
    part way into a vector computes fewer outputs this way (:func:`_on_planes`)."""
    x5, kernel, out5, stride, padding, dilation = _lift(x_shape, w_shape, out, stride, padding, dilation)
    n = x5[0]
    o = w_shape[0]
    # reads run past the last plane for dropped outputs only
    grid, image, offsets, rewrite = _plane_input(x5, kernel, stride, padding, dilation, spare=2 * lanes)
    flat, depth = _flat(out5, grid), out5[0]
    y_row = out5[0] * grid[1] * grid[2]
    width = 2 * lanes  # outputs per block
    chunk = _plane_chunk(flat, depth, width)
    starts = np.arange(0, flat, chunk)
    g = np.indices((n, depth, len(starts))).reshape(3, -1)
    at = g[1] * grid[1] * grid[2] + starts[g[2]]  # the line's first output on the grid
    x_lines = (g[0] * image + at).astype(np.int64)
    y_lines = (g[0] * o * y_row + at).astype(np.int64)
    outputs = np.minimum(chunk, flat - starts[g[2]]).astype(np.int64)
    # rows of one vector: few blocks a pass, so its weights in slices and groups; longer rows
    # have many blocks, as lines do (without slices: 1.296 ms against 1.341 for 128 channels of
    # 56x56 at stride 2 in vectors of 16, one thread, A-B-B-A in one process)
    cut = (PLANE_SLICE, PLANE_GROUP) if out5[2] <= lanes else (WHOLE, WHOLE)
    passes = _passes(o, offsets, x_lines, y_lines, outputs, y_row, n * o * depth * flat * len(offsets), *cut,
                     lanes)

    def run(x, w):
        xb = rewrite(x)
        yb = scratch("blocked output", (n, o) + out5[:1] + grid[1:], np.float32)
        passes(w, xb, yb)
        y = result((n, o) + out5, np.float32)  # a copy even where the rows fill the grid
        in_threads(_copy_out, n * o, y.size, yb, y)
        return y.reshape(out)

    return run


@numba.njit(cache=True, nogil=True)
def _fill_planes(x, stride, grid, before, xb, first, last):
    """The plane layout's rewrite (:func:`_plane_plan`) of the channels ``first <= n * C + c <
    last`` of ``x`` (N, C, D, H, W): channel ``(n, c)``'s padded volume split into its stride
    phases, phase ``(p0, p1, p2)`` at grid position ``(i0, i1, i2)`` holding padded position
    ``(p0 + s0 i0, p1 + s1 i1, p2 + s2 i2)``, ``before`` (d, h, w) zeros first, zero outside
    the input.  A channel's phases are zeroed in one run, then its input copied line by line,
    at stride 2 both column phases of a line in one pass over its pairs of inputs.  Against
    zeroing the whole buffer and NumPy's strided copies, one thread (AMD EPYC, AVX-512): 128
    channels of 56x56 at stride 2 100 against 154 us (1250 against 2300 at batch 8), 512 of
    14x14 at stride 2 56 against 67, 64 of 56x56 25 against 41, 512 of 7x7 16 against 20; and
    the channels split over the threads (zeroing each line's padding apart instead cost 15 ns a
    line: 145 us at 512 of 14x14)."""
    u = np.uint64
    _, _, d_, h_, w_ = x.shape
    s0, s1, s2 = stride
    g0, g1, g2 = grid
    plane, width = u(g0 * g1 * g2), u(g2)
    src = x.reshape(-1)
    lo, end, col = np.zeros(s2, np.uint64), np.zeros(s2, np.uint64), np.zeros(s2, np.uint64)
    for p2 in range(s2):  # the grid columns lo <= i2 < end hold input columns col, col + s2, ...
        start = p2 - before[2]  # input column of i2 = 0
        a = min(g2, 0 if start >= 0 else (s2 - 1 - start) // s2)
        lo[p2], end[p2], col[p2] = a, max(a, min(g2, (w_ - 1 - start) // s2 + 1)), max(0, start + a * s2)
    even = before[2] % 2  # at stride 2: the phase of the even input columns (from column 0 on)
    odd = 1 - even
    pairs = min(end[even] - lo[even], end[odd] - lo[odd]) if s2 == 2 else u(0)
    for item in range(first, last):
        base = u(item * s0 * s1 * s2) * plane
        for i in range(u(s0 * s1 * s2) * plane):  # zeros first: one run the compiler vectorises
            xb[base + i] = 0.0
        for p0 in range(s0):
            for i0 in range(g0):
                a0 = p0 + s0 * i0 - before[0]
                for p1 in range(s1):
                    for i1 in range(g1):
                        a1 = p1 + s1 * i1 - before[1]
                        if not (0 <= a0 < d_ and 0 <= a1 < h_):
                            continue
                        line = u(item * s0 * s1 * s2 + (p0 * s1 + p1) * s2) * plane + u(i0 * g1 + i1) * width
                        row = u(((item * d_ + a0) * h_ + a1) * w_)
                        if s2 == 1:
                            at, since = line + lo[0], row + col[0]
                            for i in range(end[0] - lo[0]):
                                xb[at + i] = src[since + i]
                        elif s2 == 2:  # both phases at once: one contiguous read of the row
                            to_even, to_odd = line + u(even) * plane + lo[even], line + u(odd) * plane + lo[odd]
                            for i in range(pairs):
                                xb[to_even + i] = src[row + u(2) * i]
                                xb[to_odd + i] = src[row + u(2) * i + u(1)]
                            for i in range(pairs, end[even] - lo[even]):
                                xb[to_even + i] = src[row + u(2) * i]
                            for i in range(pairs, end[odd] - lo[odd]):
                                xb[to_odd + i] = src[row + u(2) * i + u(1)]
                        else:
                            for p2 in range(s2):
                                at, since = line + u(p2) * plane + lo[p2], row + col[p2]
                                for i in range(end[p2] - lo[p2]):
                                    xb[at + i] = src[since + u(s2) * i]


@numba.njit(cache=True, nogil=True)
def _copy_out(yb, y, first, last):
    """``y[n, o] = yb[n, o, :, :H, :W]`` for the channels ``first <= n * O + o < last``: a plane
    pass's outputs off the phases' grid (``yb``: (N, O, D, H', W')) into ``y`` (N, O, D, H, W),
    a depth slice at a time by the depthwise kernels' copy (NumPy's copy of the view took 14-24
    us on ResNet-50's layers at batch 1, this 11-17, one thread; and it splits over the
    threads)."""
    u = np.uint64
    _, _, d, h, w = y.shape
    _, _, _, g1, g2 = yb.shape
    src, dst = yb.reshape(-1), y.reshape(-1)
    for item in range(first, last):
        for a in range(d):
            at = item * d + a  # the depth slice's index over all channels
            _copy_rows(dst, u(at * h * w), src[at * g1 * g2:], h, u(w), u(g2))


def _passes(channels, offsets, x_lines, y_lines, outputs, y_row, macs, slice_, group, lanes, stream=False):
    """``(w, xb, y)``: every block of the lines into ``y`` from the rewritten input ``xb`` (in
    slices of ``slice_`` of the reduction, groups of panels of ``group`` output channels in all,
    vectors of ``lanes``), the lines split over the threads; ``stream``: stored past the caches
    (one pass over the whole reduction only: a later slice would read its sums back)."""
    seconds = macs / known()["blocked_macs_per_s"]
    packed = macs >= PACK_ABOVE * channels * len(offsets)
    panel = ROWS[lanes]
    panels = max(1, group // panel)

    def passes(w, xb, y):
        w = pack(w, panel) if packed else np.ascontiguousarray(w).reshape(-1)
        in_threads(_blocks, len(x_lines), macs, w, packed, xb.reshape(-1), offsets, y.reshape(-1), x_lines, y_lines,
                   outputs, channels, y_row, slice_, panels, lanes, panel, stream and slice_ >= len(offsets),
                   seconds=seconds)

    return passes


def conv(x, w, *, stride=None, padding=None, dilation=None, groups=1, bias=None):
    """Layer convolution (eq. 9.7/9.8) in register blocks where it :func:`applies`, else by
    im2col (which ``auto`` would not have planned; a call whose arguments differ only in form
    from a planned one can still arrive here)."""
    x, w, stride, padding, dilation, groups = check_conv_args(x, w, stride, padding, dilation, groups)
    out = conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation)
    if not (applies(x.shape, w.shape, x.dtype, groups, out) and w.dtype == np.float32):
        return im2col.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias)
    return add_bias(conv_plan(x.shape, w.shape, out, stride, padding, dilation, LANES)(x, w), bias)
