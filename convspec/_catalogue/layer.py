"""Properties of the layer-level ``conv`` (eq. 9.7, 9.8; docs: the contract, the catalogue)."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import strategies as st

from convspec._contract import accuracy, reference
from convspec._contract.functions import conv_output_shape
from convspec._catalogue.property import prop
from convspec._catalogue.drawing import conv_data, conv_problem, fft_headroom, scaled, take

LAYER = ("dtype", "ndim")


@prop("conv_definition", op="conv", concepts=("definition", "multichannel", "dimensions"), axes=LAYER,
      statement="conv(x, w)[n, o, i] = sum_{c, j} xpad[n, g Cg + c, i s + j d] w[o, c, j] (eq. 9.7, 9.8), exactly on exact data")
def conv_definition(ctx):
    """``conv`` agrees with the multichannel strided sum of eq. 9.7/9.8.

    With zero padding, dilation and groups: output channel ``o`` reads input group
    ``g = o // (C_out / groups)``.  Anchor for every combination of the hyper-parameters.
    Exact on exact-mode data (within the normwise bound for FFT backends).
    """
    x, w, kw = conv_data(ctx)
    expected = reference.conv(x, w, **kw)
    ctx.nondegenerate(expected)
    y = ctx.call("conv", x, w, **kw)
    ctx.expect_equal(y, expected, "conv(x, w, ...)", "the defining sum, eq. 9.7/9.8")


@prop("conv_accuracy", op="conv", concepts=("definition", "accuracy"), axes=LAYER,
      statement="|conv(x, w) - exact| <= gamma_n (|x| * |w|), n = C_in/groups * prod(K) (direct), or the normwise FFT bound")
def conv_accuracy(ctx):
    """``conv`` is as accurate as its algorithm class allows (docs/explanation/accuracy.md), on real-valued data.

    The exact result is the reference in long double; a float64 layer computing in float32
    misses the direct bound by about nine orders of magnitude, and the FFT bound too.
    """
    p = conv_problem(ctx)
    kw = p.kwargs
    length = accuracy.transform_length("conv", p.x, p.w, kw)
    x, w = scaled(ctx, [p.x, p.w], terms=int(np.prod(p.w[1:])), headroom=fft_headroom(ctx, length))
    exact = reference.conv(x, w, acc=np.longdouble, **kw)
    y = ctx.call("conv", x, w, **kw)
    cls = ctx.backend.capabilities.accuracy_for("conv", (x, w), kw)
    bound = accuracy.error_bound(cls, "conv", (x, w), kw, x.dtype, ctx.backend.capabilities.arithmetic_for("conv"))
    ctx.expect_accurate(y, exact, bound, "conv", (x, w), kw, "conv(x, w, ...)",
                        f"the exact result within the {cls} error bound for {x.dtype}")


@prop("conv_matrix_view", op="conv", concepts=("matrix-view",), axes=LAYER,
      statement="conv(x, w).ravel() = A @ x.ravel(), A the sparse matrix with tied entries built from w")
def conv_matrix_view(ctx):
    """A convolutional layer is multiplication by a sparse matrix whose entries are tied (section 9.1).

    ``A`` is built entry by entry from the definition (with stride, padding, dilation and
    groups); every row holds at most ``C_in/groups * prod(K)`` non-zeros, all copies of
    kernel entries.  Exact.
    """
    x, w, kw = conv_data(ctx, max_channels=3, max_elements=300)
    a = reference.conv_matrix(x.shape, w, **kw)
    expected = a @ x.astype(np.float64).ravel()
    ctx.nondegenerate(expected)
    ctx.expect(np.count_nonzero(a, axis=1).max() <= w[0].size, "A has more non-zeros per row than a window holds")
    y = ctx.call("conv", x, w, **kw)
    ctx.expect_equal(y.ravel(), expected, "conv(x, w, ...).ravel()", "A @ x.ravel()")


@prop("conv_is_correlation", op="conv", concepts=("flip-relation", "definition"), axes=LAYER, uses=("correlate",),
      statement="conv on one image, one channel, stride 1, no padding = correlate(x, w, 'valid'): layers correlate, not convolve")
def conv_is_correlation(ctx):
    """Deep-learning layers compute cross-correlation, not convolution (section 9.1).

    With ``N = C_in = C_out = 1``, unit stride and dilation and no padding, ``conv`` equals
    the signal-level ``correlate`` in valid mode.  Exact.
    """
    p = conv_problem(ctx, max_groups=1, max_channels=1, unit=True)
    x, w = ctx.exact((1, 1) + p.x[2:]), ctx.exact(p.w)
    y = ctx.call("conv", x, w, **p.kwargs)
    ctx.nondegenerate(y)
    expected = ctx.other("correlate", x[0, 0].copy(), w[0, 0].copy(), mode="valid")
    ctx.expect_equal(y[0, 0], expected, "conv(x, w)[0, 0]", "correlate(x[0, 0], w[0, 0], 'valid')")


@prop("conv_output_shape", op="conv", concepts=("shape-strided",), axes=LAYER,
      statement="conv(x, w).shape = (N, C_out, *O), O_i = (S_i + before_i + after_i - d_i (K_i - 1) - 1) // s_i + 1")
def conv_output_shape_(ctx):
    """The output size of a strided, padded, dilated layer (docs/explanation/contract.md).

    Stride discards the positions between samples: floor division, so a partial last
    window is dropped.
    """
    x, w, kw = conv_data(ctx, real=True)
    y = ctx.call("conv", x, w, check_shape=False, **kw)
    want = conv_output_shape(x.shape, w.shape, **kw)
    ctx.expect(y.shape == want, f"conv(x, w, {kw}).shape={y.shape} for x.shape={x.shape}, w.shape={w.shape}, "
                                f"but should be {want} ((S + before + after - d (K - 1) - 1) // s + 1)")


@prop("conv_stride_downsampling", op="conv", concepts=("stride-downsampling",), axes=LAYER,
      statement="conv(x, w, stride=s) = conv(x, w, stride=1)[..., ::s] (eq. 9.8)")
def conv_stride_downsampling(ctx):
    """A strided convolution is the dense one sampled every ``s`` positions (eq. 9.8).

    Same padding, dilation and groups on both sides.  Exact.
    """
    x, w, kw = conv_data(ctx)
    y = ctx.call("conv", x, w, **kw)
    dense = ctx.call("conv", x, w, **{**kw, "stride": (1,) * (x.ndim - 2)})
    ctx.nondegenerate(dense)
    sampled = dense[(Ellipsis,) + tuple(slice(0, o * s, s) for o, s in zip(y.shape[2:], kw["stride"]))]
    ctx.expect_equal(y, sampled, f"conv(x, w, stride={kw['stride']})", "conv(x, w, stride=1) sampled every stride")


@prop("conv_zero_padding", op="conv", concepts=("zero-padding",), axes=LAYER,
      statement="conv(x, w, padding=P) = conv(pad(x, P), w, padding=0), for asymmetric P and P larger than the kernel")
def conv_zero_padding(ctx):
    """Padding is zeros added outside the input, ``before`` and ``after`` separately (section 9.3).

    Exact.
    """
    x, w, kw = conv_data(ctx)
    y = ctx.call("conv", x, w, **kw)
    ctx.nondegenerate(y)
    padded = np.pad(x, ((0, 0), (0, 0)) + kw["padding"])
    expected = ctx.call("conv", padded, w, **{**kw, "padding": ((0, 0),) * (x.ndim - 2)})
    ctx.expect_equal(y, expected, f"conv(x, w, padding={kw['padding']})", "conv(pad(x), w, padding=0)")


@prop("conv_dilation", op="conv", concepts=("definition",), axes=LAYER,
      statement="conv(x, w, dilation=d) = conv(x, w with d - 1 zeros between taps, dilation=1)")
def conv_dilation(ctx):
    """Dilation spreads the kernel taps ``d`` apart: the same as a kernel with zeros between them.

    Exact.
    """
    x, w, kw = conv_data(ctx)
    d = kw["dilation"]
    wide = np.zeros(w.shape[:2] + tuple(di * (k - 1) + 1 for di, k in zip(d, w.shape[2:])), dtype=w.dtype)
    wide[(slice(None), slice(None)) + tuple(slice(None, None, di) for di in d)] = w
    y = ctx.call("conv", x, w, **kw)
    ctx.nondegenerate(y)
    expected = ctx.call("conv", x, wide, **{**kw, "dilation": (1,) * len(d)})
    ctx.expect_equal(y, expected, f"conv(x, w, dilation={d})", "conv with the zero-stuffed kernel")


@prop("conv_multichannel", op="conv", concepts=("multichannel",), axes=LAYER,
      statement="conv(x, w) = sum_c conv(x[:, c:c+1], w[:, c:c+1]): channels are summed (eq. 9.7)")
def conv_multichannel(ctx):
    """Every output channel sums the correlations of all input channels (eq. 9.7, groups = 1).

    Catches a dropped or repeated input channel.  Exact.
    """
    x, w, kw = conv_data(ctx, max_groups=1)
    y = ctx.call("conv", x, w, **kw)
    ctx.nondegenerate(y)
    total = sum(ctx.call("conv", np.ascontiguousarray(x[:, c:c + 1]), np.ascontiguousarray(w[:, c:c + 1]), **kw).astype(np.float64)
                for c in range(x.shape[1]))
    ctx.expect_equal(y, total, "conv(x, w)", "the sum over input channels of single-channel convolutions")


@prop("conv_grouped_channels", op="conv", concepts=("grouped-channels",), axes=LAYER,
      statement="conv(x, w, groups=g) = concat_i conv(x[:, group i], w[group i's outputs], groups=1)")
def conv_grouped_channels(ctx):
    """Grouped convolution is ``groups`` independent convolutions side by side.

    Output channel ``o`` reads only input group ``o // (C_out / groups)``.  Exact.
    """
    x, w, kw = conv_data(ctx)
    g = ctx.draw(st.integers(2, 4), label="groups") if kw["groups"] == 1 else kw["groups"]
    if kw["groups"] == 1:  # widen to g groups of the drawn sizes
        x = np.concatenate([x] + [ctx.exact(x.shape) for _ in range(g - 1)], axis=1)
        w = np.concatenate([w] + [ctx.exact(w.shape) for _ in range(g - 1)], axis=0)
    c_group, o_group = x.shape[1] // g, w.shape[0] // g
    y = ctx.call("conv", x, w, **{**kw, "groups": g})
    ctx.nondegenerate(y)
    parts = [ctx.call("conv", np.ascontiguousarray(x[:, i * c_group:(i + 1) * c_group]),
                      np.ascontiguousarray(w[i * o_group:(i + 1) * o_group]), **{**kw, "groups": 1}) for i in range(g)]
    ctx.expect_equal(y, np.concatenate(parts, axis=1), f"conv(x, w, groups={g})", "the per-group convolutions side by side")


@prop("conv_batch_independence", op="conv", concepts=("batch-independence",), axes=LAYER,
      statement="conv(x, w)[n] = conv(x[n:n+1], w)[0], and permuting the batch permutes the output")
def conv_batch_independence(ctx):
    """Batch items are processed independently and in order.

    Exact.
    """
    x, w, kw = conv_data(ctx)
    y = ctx.call("conv", x, w, **kw)
    ctx.nondegenerate(y)
    n = ctx.draw(st.integers(0, x.shape[0] - 1), label="item")
    alone = ctx.call("conv", np.ascontiguousarray(x[n:n + 1]), w, **kw)
    ctx.expect_equal(alone[0], y[n], f"conv(x[{n}:{n + 1}], w)[0]", f"conv(x, w)[{n}]")
    order = ctx.rng.permutation(x.shape[0])
    shuffled = ctx.call("conv", np.ascontiguousarray(x[order]), w, **kw)
    ctx.expect_equal(shuffled, y[order], f"conv(x[{order.tolist()}], w)", "conv(x, w) in the same order")


@prop("conv_translation_equivariance", op="conv", concepts=("translation-equivariance",), axes=LAYER,
      statement="dropping s*stride leading inputs drops s leading outputs (interior); with a circular boundary a roll of x rolls y")
def conv_translation_equivariance(ctx):
    """Convolution commutes with translation by multiples of the stride (section 9.2).

    Interior: windows that do not touch the leading padding see the same values after the
    input is shifted by ``s * stride``.  Circular: with the input wrapped around (stride 1),
    rolling ``x`` by any amount rolls ``y`` by the same amount.  Exact.
    """
    x, w, kw = conv_data(ctx)
    axis = ctx.draw(st.integers(0, x.ndim - 3), label="axis")
    a = axis + 2
    if ctx.draw(st.booleans(), label="circular"):
        kw = {**kw, "stride": (1,) * (x.ndim - 2), "padding": ((0, 0),) * (x.ndim - 2)}
        span = [d * (k - 1) for d, k in zip(kw["dilation"], w.shape[2:])]
        wrap = ((0, 0), (0, 0)) + tuple((0, s) for s in span)
        shift = ctx.draw(st.integers(1, x.shape[a]), label="shift")
        y = ctx.call("conv", np.pad(x, wrap, mode="wrap"), w, **kw)
        rolled = ctx.call("conv", np.pad(np.roll(x, shift, a), wrap, mode="wrap"), w, **kw)
        ctx.nondegenerate(y)
        ctx.expect_equal(rolled, np.roll(y, shift, a), f"conv(roll(x, {shift}, axis={a}))", "roll(conv(x)) (circular boundary)")
        return
    stride, before = kw["stride"][axis], kw["padding"][axis][0]
    while x.shape[a] <= stride:  # room to shift by at least one stride
        x = np.concatenate([x, ctx.exact(x.shape)], axis=a)
    s = ctx.draw(st.integers(1, (x.shape[a] - 1) // stride), label="shift_in_strides")
    y = ctx.call("conv", x, w, **kw)
    cropped = np.ascontiguousarray(take(x, a, slice(s * stride, None)))
    if cropped.shape[a] + sum(kw["padding"][axis]) < kw["dilation"][axis] * (w.shape[a] - 1) + 1:
        return  # nothing left to compare along this axis
    shifted = ctx.call("conv", cropped, w, **kw)
    first = -(-before // stride)  # outputs whose window starts inside the input
    count = shifted.shape[a] - first
    expected = take(y, a, slice(first + s, first + s + count))
    got = take(shifted, a, slice(first, first + count))
    ctx.nondegenerate(expected)
    ctx.expect_equal(got, expected, f"conv(x shifted by {s}*stride on axis {a})", f"conv(x) shifted by {s} outputs")


@prop("conv_receptive_field", op="conv", concepts=("sparse-interactions",), axes=LAYER,
      statement="changing x[n, c, p] changes exactly the outputs whose window covers p, by delta * the tap under p")
def conv_receptive_field(ctx):
    """Sparse interactions (section 9.2): an output depends only on its receptive field.

    Changing one input value by ``delta`` changes output ``y[n, o, i]`` by
    ``delta * w[o, c', j]`` for every tap ``j`` that lands on it (``i s + j d - before = p``),
    in the batch item and the channel group concerned, and leaves every other output as
    it was.  Exact.
    """
    x, w, kw = conv_data(ctx)
    n = ctx.draw(st.integers(0, x.shape[0] - 1), label="n")
    c = ctx.draw(st.integers(0, x.shape[1] - 1), label="channel")
    p = ctx.draw(st.tuples(*(st.integers(0, s - 1) for s in x.shape[2:])), label="position")
    delta = x.dtype.type(ctx.draw(st.sampled_from([1, -2, 4]), label="delta"))
    y = ctx.call("conv", x, w, **kw)
    x2 = x.copy()
    x2[(n, c) + p] += delta
    y2 = ctx.call("conv", x2, w, **kw)
    expected = y.astype(np.float64)
    c_group, o_group = w.shape[1], w.shape[0] // kw["groups"]
    g, cg = divmod(c, c_group)
    outs = slice(g * o_group, (g + 1) * o_group)
    for j in itertools.product(*(range(k) for k in w.shape[2:])):
        # tap j of output i sits on input i*s + j*d - before: it is p for i = (p + before - j*d) / s
        i = []
        for q, jj, s, d, (b, _), o in zip(p, j, kw["stride"], kw["dilation"], kw["padding"], y.shape[2:]):
            num = q + b - jj * d
            i.append(num // s if num % s == 0 and 0 <= num // s < o else None)
        if None not in i:
            expected[(n, outs) + tuple(i)] += float(delta) * w[(outs, cg) + j].astype(np.float64)
    ctx.nondegenerate(expected - y)
    ctx.expect_equal(y2, expected, f"conv(x with x[{n}, {c}, {p}] += {float(delta)})",
                     "conv(x) changed only inside the receptive field of that input")


@prop("conv_receptive_field_growth", op="conv", concepts=("sparse-interactions",), axes=LAYER,
      statement="through two stacked layers an input reaches outputs within (k1 - 1) d1 + (k2 - 1) d2 s1 + 1 inputs: fields grow with depth")
def conv_receptive_field_growth(ctx):
    """Receptive fields grow through stacked layers (section 9.2, figure 9.4).

    A layer-2 output depends on the layer-1 outputs in its window, each of which depends on
    an input window: the composed field spans ``d1 (k1 - 1) + s1 d2 (k2 - 1) + 1`` inputs.
    Changing one input leaves every layer-2 output outside that field unchanged.  Exact.
    """
    x, w1, kw1 = conv_data(ctx, max_groups=1, max_channels=2)
    p2 = conv_problem(ctx, max_groups=1, max_channels=2)
    h_shape = conv_output_shape(x.shape, w1.shape, **kw1)
    nd = x.ndim - 2
    kw2 = {**p2.kwargs, "padding": ((0, 0),) * nd, "stride": (1,) * nd}
    w2 = ctx.exact((p2.w[0], w1.shape[0]) + p2.w[2:])
    if any(h < d * (k - 1) + 1 for h, d, k in zip(h_shape[2:], kw2["dilation"], w2.shape[2:])):
        w2 = w2[(Ellipsis,) + (slice(0, 1),) * nd].copy()
        kw2["dilation"] = (1,) * nd
    p = ctx.draw(st.tuples(*(st.integers(0, s - 1) for s in x.shape[2:])), label="position")
    z = ctx.call("conv", ctx.call("conv", x, w1, **kw1), w2, **kw2)
    x2 = x.copy()
    x2[(0, 0) + p] += 1
    z2 = ctx.call("conv", ctx.call("conv", x2, w1, **kw1), w2, **kw2)
    ctx.nondegenerate(z2 - z)
    outside = np.ones(z.shape[2:], dtype=bool)
    for i in itertools.product(*(range(s) for s in z.shape[2:])):
        inside = True
        for ii, q, s1, d1, k1, (b1, _), d2, k2 in zip(i, p, kw1["stride"], kw1["dilation"], w1.shape[2:], kw1["padding"],
                                                      kw2["dilation"], w2.shape[2:]):
            lo = ii * s1 - b1  # first input seen through layer-1 output ii
            hi = (ii + d2 * (k2 - 1)) * s1 - b1 + d1 * (k1 - 1)
            inside &= lo <= q <= hi
        outside[i] = not inside
    direct = all(ctx.backend.capabilities.accuracy_for(c.op, c.args, c.kwargs) == "direct" for c in ctx.calls)
    changed = np.any(z2 != z, axis=(0, 1)) if direct else \
        np.any(np.abs(z2 - z) > ctx.tolerance(), axis=(0, 1))
    bad = changed & outside
    if bad.any():
        ctx.expect(False, f"conv(conv(x)) changed at output {tuple(int(v) for v in np.argwhere(bad)[0])}, "
                          f"but should change only within the composed receptive field of input {p}")


@prop("conv_variable_size", op="conv", concepts=("variable-size",), axes=LAYER,
      statement="the same kernel on a shorter input gives the same values at every output whose window lies in it")
def conv_variable_size(ctx):
    """One set of weights serves inputs of any size (section 9.7).

    Cutting the input at the end keeps every output whose window ends inside the cut; only
    the number of outputs changes.  Catches results cached by shape.  Exact.
    """
    x, w, kw = conv_data(ctx)
    y = ctx.call("conv", x, w, **kw)
    cut = tuple(ctx.draw(st.integers(max(1, d * (k - 1) + 1 - a - b), s), label=f"cut[{i}]")
                for i, (s, k, d, (a, b)) in enumerate(zip(x.shape[2:], w.shape[2:], kw["dilation"], kw["padding"])))
    small = ctx.call("conv", np.ascontiguousarray(x[(Ellipsis,) + tuple(slice(0, c) for c in cut)]), w, **kw)
    keep = []
    for c, s, d, k, (a, _), o in zip(cut, kw["stride"], kw["dilation"], w.shape[2:], kw["padding"], small.shape[2:]):
        count = 0
        while count < o and count * s - a + d * (k - 1) < c:
            count += 1
        keep.append(slice(0, count))
    keep = (Ellipsis,) + tuple(keep)
    ctx.nondegenerate(y[keep])
    ctx.expect_equal(small[keep], y[keep], f"conv(x[..., :{cut}], w)", "conv(x, w) at the outputs inside the cut")


@prop("conv_separability", op="conv", concepts=("separability",), axes=("dtype", ("ndim", (2, 3))),
      statement="a kernel a[o, c] u (x) v is a 1-D pass over one axis then a depthwise 1-D pass over the other")
def conv_separability(ctx):
    """Separable kernels factor into one pass per axis (section 9.8).

    ``w[o, c] = a[o, c] * outer(u, v, ...)`` gives the same layer as a pass with
    ``a[o, c] * u`` along the first axis, then depthwise passes with ``v``, ... along the
    others, each pass taking that axis's stride, padding and dilation.  Exact.
    """
    x, w, kw = conv_data(ctx, max_groups=1)
    nd = x.ndim - 2
    a = ctx.exact(w.shape[:2])
    factors = [ctx.exact((k,)) for k in w.shape[2:]]
    kernel = factors[0]
    for f in factors[1:]:
        kernel = np.multiply.outer(kernel, f)
    w = (a[(Ellipsis,) + (None,) * nd] * kernel).astype(x.dtype)
    y = ctx.call("conv", x, w, **kw)
    ctx.nondegenerate(y)
    h = x
    for axis, f in enumerate(factors):
        one = lambda seq, fill: tuple(v if i == axis else fill for i, v in enumerate(seq))  # noqa: E731
        shape = [1] * nd
        shape[axis] = f.size
        if axis == 0:
            wk = (a[(Ellipsis,) + (None,) * nd] * f.reshape(shape)).astype(x.dtype)
            groups = 1
        else:
            wk = np.broadcast_to(f.reshape(shape), (w.shape[0], 1) + tuple(shape)).astype(x.dtype)
            groups = w.shape[0]
        h = ctx.call("conv", h, np.ascontiguousarray(wk), stride=one(kw["stride"], 1), padding=one(kw["padding"], (0, 0)),
                     dilation=one(kw["dilation"], 1), groups=groups)
    ctx.expect_equal(h, y, "one pass per axis", "conv with the separable kernel")


@prop("conv_dimension_embedding", op="conv", concepts=("dimensions",), axes=("dtype", ("ndim", (1, 2))), lifts_ndim=True,
      statement="a d-D conv equals the (d+1)-D conv with a singleton spatial axis appended")
def conv_dimension_embedding(ctx):
    """1-D, 2-D and 3-D layers agree on data that does not use the extra axis.

    The new axis has size 1, kernel 1, stride 1, no padding.  Exact.
    """
    x, w, kw = conv_data(ctx)
    y = ctx.call("conv", x, w, **kw)
    ctx.nondegenerate(y)
    lifted = ctx.call("conv", x[..., None], w[..., None], stride=kw["stride"] + (1,), padding=kw["padding"] + ((0, 0),),
                      dilation=kw["dilation"] + (1,), groups=kw["groups"])
    ctx.expect_equal(lifted[..., 0], y, "conv(x[..., None], w[..., None])[..., 0]", "conv(x, w)")

