"""Properties of pooling (section 9.3) and of invariance learned by pooling over filters."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from convspec._contract import accuracy, reference
from convspec._contract.functions import INTEGER_DTYPES, LOW_PRECISION_DTYPES, pool_output_length
from convspec._catalogue.property import prop
from convspec._catalogue.drawing import (conv_problem, for_each, maker, pool_data, scaled, take,
                                        unpool_data)

LAYER = ("dtype", "ndim")
#: From catalogue 0.2.0 on, the pooling properties that hold whatever the data also draw the
#: low-precision dtypes and, for the max pools, the integer ones (each function only those it
#: may declare): a max is exact in every dtype.
WIDER = ("0.2.0", INTEGER_DTYPES + LOW_PRECISION_DTYPES)
POOL_CONCEPT = {"max_pool": "pooling-max", "avg_pool": "pooling-avg", "lp_pool": "pooling-lp",
                "adaptive_max_pool": "pooling-variable-size", "adaptive_avg_pool": "pooling-variable-size"}
SUMMARY = {"max_pool": "the largest value", "avg_pool": "the mean", "lp_pool": "(sum |x|^p)^(1/p)",
           "adaptive_max_pool": "the max over each bin", "adaptive_avg_pool": "the mean over each bin"}


def _bound(ctx, op, args, kwargs):
    caps = ctx.backend.capabilities
    return accuracy.pool_bound(op, args, kwargs, args[0].dtype, caps.accuracy_for(op, args, kwargs), caps.arithmetic_for(op))


@for_each(*POOL_CONCEPT)
def _definition(op):
    @prop(f"{op}_definition", op=op, concepts=(POOL_CONCEPT[op], "definition"), axes=LAYER, widened=WIDER,
          statement=f"{op} gives {SUMMARY[op]} of each window (padding: -inf for max, nothing for sums), within {op}'s rounding")
    def definition(ctx):
        args, kwargs = pool_data(ctx, op)
        expected = getattr(reference, op)(*args, acc=np.longdouble, **kwargs)
        ctx.nondegenerate(expected)
        y = ctx.call(op, *args, **kwargs)
        ctx.expect_within(y, expected, _bound(ctx, op, args, kwargs), f"{op}(x, ...)", "the summary of each window (section 9.3)",
                          equal_nan=True)  # NaN where the definition gives it: an average over padding only

    definition.__doc__ = f"""{op} summarises each window by {SUMMARY[op]} (section 9.3).

    Conventions (docs/explanation/contract.md): padding is never a maximum; the average divides by the
    window's input elements unless ``count_padding``; ceil mode adds a last window only if
    it starts before the after-padding.  Max is exact; sums within ``gamma_(n+3)`` of their
    magnitude.
    """


@for_each("avg_pool", "lp_pool", "adaptive_avg_pool")
def _pool_accuracy(op):
    @prop(f"{op}_accuracy", op=op, concepts=(POOL_CONCEPT[op], "accuracy"), axes=LAYER,
          statement=f"|{op}(x) - exact| <= gamma_(n+3) {SUMMARY[op].replace('(sum |x|^p)^(1/p)', 'lp_pool(|x|)')} "
                    f"elementwise (+ 2 n eta near underflow), on real-valued data at every magnitude")
    def accuracy_(ctx):
        args, kwargs = pool_data(ctx, op, real=True)
        if op == "adaptive_avg_pool":
            terms = int(np.prod([-(-s // o) + 1 for s, o in zip(args[0].shape[2:], kwargs["output_size"])]))
        else:
            terms = int(np.prod(kwargs["window"]))
        (x,) = scaled(ctx, [args[0].shape], terms=terms)
        exact = getattr(reference, op)(x, acc=np.longdouble, **kwargs)
        y = ctx.call(op, x, **kwargs)
        cls = ctx.backend.capabilities.accuracy_for(op, (x,), kwargs)
        ctx.expect_accurate(y, exact, _bound(ctx, op, (x,), kwargs), op, (x,), kwargs, f"{op}(x, ...)",
                            f"the exact result within the {cls} pooling bound for {x.dtype}", equal_nan=True)

    accuracy_.__doc__ = f"""{op} is as accurate as its arithmetic allows, on real-valued data (docs/explanation/accuracy.md).

    A direct summary of ``n`` values is within ``gamma_(n+3)`` of the summary of ``|x|``
    (``accuracy.pool_bound`` gives the derivation), plus ``2 n eta`` for roundings below the
    normal range; other classes normwise.  Values come at every magnitude class: an ``lp_pool``
    that raises ``|x|^p`` in the input dtype overflows or underflows where the true norm is
    representable, and a float64 pool that accumulates in float32 misses the bound.
    """


PADDING_ONLY = {"max_pool": ("-inf", -np.inf), "avg_pool": ("NaN (0 / 0) without count_padding, 0 with it", None),
                "lp_pool": ("0", 0.0)}


@for_each(*PADDING_ONLY)
def _padding_only(op):
    @prop(f"{op}_padding_only_window", op=op, concepts=(POOL_CONCEPT[op], "zero-padding"), axes=LAYER, widened=WIDER,
          features=("pool_dilation",), changed=(("0.2.0", "runs for every backend that declares pool_dilation, "
                                                            "which alone makes windows of padding only"),),
          statement=f"a dilated window that holds padding only gives {PADDING_ONLY[op][0]}; the others their summary")
    def padding_only(ctx):
        (x,), kw = pool_data(ctx, op)
        # one axis gets window 2, padding (1, 1) and dilation S + 1: the first window's taps
        # are -1 and S, both padding (docs/explanation/contract.md, pooling)
        axis = ctx.draw(st.integers(0, x.ndim - 3), label="axis")
        s = ctx.draw(st.integers(1, 4), label="length")
        x = maker(ctx)(x.shape[:2 + axis] + (s,) + x.shape[3 + axis:])
        put = lambda t, v: t[:axis] + (v,) + t[axis + 1:]  # noqa: E731
        kw = {**kw, "window": put(kw["window"], 2), "padding": put(kw["padding"], (1, 1)),
              "dilation": put(kw.get("dilation", (1,) * (x.ndim - 2)), s + 1), "ceil_mode": False}
        expected = getattr(reference, op)(x, acc=np.longdouble, **kw)
        y = ctx.call(op, x, **kw)
        first = (slice(None), slice(None)) + tuple(0 if a == axis else slice(None) for a in range(x.ndim - 2))
        want = PADDING_ONLY[op][1]
        if want is None:
            want = 0.0 if kw["count_padding"] else np.nan
        if x.dtype.kind in "iu":  # no -inf in integers: the dtype's least value
            want = np.iinfo(x.dtype).min
        assert np.all(np.isnan(expected[first])) if want != want else np.all(expected[first] == want), \
            f"the reference gave {expected[first].ravel()[:3]} for a window of padding only"
        stated = f"the dtype's least value {want}" if x.dtype.kind in "iu" else PADDING_ONLY[op][0]
        ctx.expect_within(y, expected, _bound(ctx, op, (x,), kw), f"{op}(x, {kw})",
                          f"{stated} where the window holds padding only, the summary elsewhere", equal_nan=True)

    padding_only.__doc__ = f"""A window of padding only has a value, stated by the contract (docs/explanation/contract.md).

    A dilation alone can make a window's taps all miss the input, within the default padding
    limit of half the window: window 2, padding (1, 1) and dilation ``S + 1`` put the first
    window's taps at -1 and ``S``.  {op} gives {PADDING_ONLY[op][0]} there (the identity of
    its reduction over no input element).  Applies when the backend declares ``pool_dilation``.
    """
    return padding_only


@prop("max_pool_propagates_nan", op="max_pool", concepts=("pooling-max",), axes=LAYER,
      widened=("0.2.0", LOW_PRECISION_DTYPES),
      statement="a window holding NaN pools to NaN; windows without it are unchanged")
def max_pool_propagates_nan(ctx):
    """NaN is not silently dropped by max pooling (``np.max`` semantics, as in PyTorch).

    A comparison ``v > best`` ignores NaN; a correct max propagates it to exactly the windows
    that hold it.
    """
    (x,), kw = pool_data(ctx, "max_pool")
    pos = ctx.draw(st.tuples(*(st.integers(0, s - 1) for s in x.shape)), label="nan_at")
    bad = x.copy()
    bad[pos] = np.nan
    expected = reference.max_pool(bad, **kw)
    ctx.assume(np.isnan(expected).any())
    y = ctx.call("max_pool", bad, **kw)
    y = y.astype(np.float64)  # exact for every float dtype (np.nan_to_num knows no bfloat16)
    ctx.expect(np.array_equal(np.isnan(y), np.isnan(expected)),
               f"max_pool(x with NaN at {pos}) has NaN at {int(np.isnan(y).sum())} outputs, "
               f"but should have NaN at the {int(np.isnan(expected).sum())} windows holding it")
    ctx.expect_within(np.nan_to_num(y, nan=0.0), np.nan_to_num(expected, nan=0.0), 0.0, "max_pool(x)", "the max elsewhere")


@prop("max_pool_indices", op="max_pool", concepts=("pooling-max",), axes=LAYER, features=("max_pool_indices",),
      widened=WIDER,
      statement="max_pool(x, ..., return_indices=True) = (max_pool(x, ...), the flat index of each window's first NaN, "
                "else of its first maximum in order of position; -1 for a window of padding only)")
def max_pool_indices(ctx):
    """Where each maximum came from, as unpooling needs it (feature ``max_pool_indices``).

    Indices are flat over x's spatial axes (C order), one per output; ties go to the first
    element in order of position, a window holding NaN points at its first NaN.  Exact data
    has many ties; a NaN is placed in some examples.  Exact.
    """
    (x,), kw = pool_data(ctx, "max_pool")
    if x.dtype.kind == "f" and ctx.draw(st.booleans(), label="with NaN"):  # integers have no NaN
        x[ctx.draw(st.tuples(*(st.integers(0, s - 1) for s in x.shape)), label="nan_at")] = np.nan
    y = ctx.call("max_pool", x, **kw)
    outcome = ctx.attempt("max_pool", x, return_indices=True, **kw)
    call = "max_pool(x, return_indices=True, ...)"
    if outcome.raised is not None:
        ctx.expect(False, f"{call} raised {outcome.raised.type}: {outcome.raised.message}, but the backend declares "
                          "max_pool_indices")
    got = outcome.value
    ctx.expect(isinstance(got, tuple) and len(got) == 2 and all(isinstance(g, np.ndarray) for g in got),
               f"{call} returned {type(got).__name__}, but should return a tuple (y, indices) of two arrays")
    values, where = got
    ctx.expect_within(values, y, 0.0, f"{call}[0]", "max_pool(x, ...)", equal_nan=True)
    ctx.expect(where.dtype.kind in "iu" and where.shape == y.shape,
               f"{call}[1] has dtype {where.dtype} and shape {where.shape}, but should be integers of shape {y.shape}")
    want = reference.max_pool_indices(x, **kw)
    bad = where != want
    if bad.any():
        i = tuple(int(v) for v in np.argwhere(bad)[0])
        ctx.expect(False, f"{call}[1][{', '.join(map(str, i))}]={int(where[i])}, but should be {int(want[i])} (the "
                          f"window's first NaN, else its first maximum); {int(bad.sum())} of {bad.size} indices differ")


@prop("max_unpool_definition", op="max_unpool", concepts=("pooling-max",), axes=LAYER,
      statement="max_unpool(y, indices, output_size) is zeros with each y[n, c, i] at the flat position indices[n, c, i] "
                "(nothing for an index of -1)")
def max_unpool_definition(ctx):
    """Unpooling puts every pooled value back where ``max_pool``'s indices say, zeros elsewhere
    (the placement a max-pooling layer's gradient and decoder networks use).  Exact.

    An index of -1, which ``max_pool`` gives for a window of padding only, puts nothing: from
    catalogue 0.2.0 on, some examples have such indices (a vectorised scatter that does not
    filter them writes at the last position).
    """
    args, kwargs = unpool_data(ctx, holes=ctx.since("0.2.0"))
    expected = reference.max_unpool(*args, **kwargs)
    ctx.nondegenerate(expected)
    y = ctx.call("max_unpool", *args, **kwargs)
    ctx.expect_within(y, expected, 0.0, "max_unpool(y, indices, ...)", "y placed at its indices, zeros elsewhere",
                      equal_nan=True)


@prop("max_unpool_is_max_pool_gradient", op="max_unpool", concepts=("pooling-max", "gradient-input"), axes=LAYER,
      statement="for windows that do not overlap, (<gy, max_pool(x + e_p)> - <gy, max_pool(x)>) = max_unpool(gy, "
                "indices)[p] at every input position p: unpooling is back-propagation through max pooling")
def max_unpool_is_max_pool_gradient(ctx):
    """Back-propagation through max pooling routes each output's gradient to its window's
    maximum, and nowhere else: ``max_unpool`` of the output gradient at ``max_pool``'s indices
    is the gradient with respect to the input (sections 6.5 and 9.3).

    Checked by finite differences on distinct even values, so that adding 1 to one input
    never changes which element of a window is largest: the change of ``<gy, max_pool(x)>``
    is ``gy`` of the window whose maximum it is, 0 for an element no window picks.  Windows
    no closer than their length, so each input is in one window at most.
    """
    from convspec._catalogue.strategies import pool_problems

    p = ctx.draw(pool_problems(ctx.axis("ndim"), ceil_mode=False), label="problem")
    kw = {**p.kwargs, "stride": tuple(max(s, k) for s, k in zip(p.stride, p.window))}
    size = int(np.prod(p.x))
    x = (2 * ctx.rng.permutation(size)).reshape(p.x).astype(ctx.dtype)  # distinct, two apart
    gy = ctx.exact(reference.max_pool(x, **kw).shape)
    spatial = p.x[2:]
    g = ctx.call("max_unpool", gy, reference.max_pool_indices(x, **kw), output_size=spatial)
    before = float(np.sum(gy.astype(np.float64) * reference.max_pool(x, **kw)))
    picks = ctx.draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=12, unique=True), label="positions")
    for flat in picks:
        at = np.unravel_index(flat, p.x)
        bumped = x.copy()
        bumped[at] += 1
        change = float(np.sum(gy.astype(np.float64) * reference.max_pool(bumped, **kw))) - before
        ctx.expect_within(g[at], change, 0.0, f"max_unpool(gy, indices)[{', '.join(map(str, at))}]",
                          "the change of <gy, max_pool(x)> when that input grows by 1 (its gradient)")
    ctx.nondegenerate(g)


#: Non-decreasing maps, by kind of data: on integers, maps that cannot overflow the dtype.
MONOTONE = {"f": {"relu": lambda a: np.maximum(a, 0), "affine": lambda a: 2 * a + 1, "cube": lambda a: a * a * a},
            "iu": {"relu": lambda a: np.maximum(a, 0), "halve": lambda a: a // 2, "clip": lambda a: np.clip(a, -9, 9)}}


@prop("max_pool_monotone_maps", op="max_pool", concepts=("pooling-max",), axes=LAYER, widened=WIDER,
      statement="max_pool(f(x)) = f(max_pool(x)) for non-decreasing f (f = relu, 2x + 1, x^3; on integers relu, "
                "x // 2, a clip)")
def max_pool_monotone_maps(ctx):
    """Max pooling commutes with every non-decreasing map.

    So it can be applied before or after a ReLU detector stage (section 9.3).  Exact: the
    rounding of ``f(x)`` to the dtype is non-decreasing too, so the identity holds for the
    rounded map on every dtype; integers get maps that cannot overflow them.
    """
    (x,), kw = pool_data(ctx, "max_pool")
    maps = MONOTONE["iu" if x.dtype.kind in "iu" else "f"]
    name = ctx.draw(st.sampled_from(list(maps)), label="f")
    f = lambda a: maps[name](a.astype(np.float64) if a.dtype.kind == "f" else a).astype(x.dtype)  # noqa: E731
    pooled = ctx.call("max_pool", x, **kw)
    ctx.nondegenerate(pooled)
    y = ctx.call("max_pool", f(x), **kw)
    # a window of padding only stays at the least value (padding never wins, whatever f does)
    padding_only = reference.max_pool(np.zeros(x.shape), **kw) == -np.inf
    expected = np.where(padding_only, pooled, f(pooled))
    ctx.expect_within(y, expected, 0.0, f"max_pool({name}(x))", f"{name}(max_pool(x))")


@prop("avg_pool_is_box_convolution", op="avg_pool", concepts=("pooling-avg",), axes=LAYER, uses=("conv",),
      statement="avg_pool(x, count_padding=True) = conv(x, ones(window), groups=C) / prod(window) (floor mode)")
def avg_pool_is_box_convolution(ctx):
    """Average pooling is a depthwise convolution with a box kernel, divided by its size.

    With ``count_padding=True`` and floor mode every window divides by ``prod(window)``.
    Exact sums; the quotient within the pooling bound.
    """
    (x,), kw = pool_data(ctx, "avg_pool", ceil_mode=False)
    kw = {**kw, "count_padding": True}
    c = x.shape[1]
    box = np.ones((c, 1) + kw["window"], dtype=x.dtype)
    summed = ctx.other("conv", x, box, stride=kw["stride"], padding=kw["padding"],
                       dilation=kw.get("dilation", (1,) * len(kw["window"])), groups=c)
    ctx.nondegenerate(summed)
    y = ctx.call("avg_pool", x, **kw)
    expected = summed.astype(np.float64) / np.prod(kw["window"])
    ctx.expect_within(y, expected, 4 * _bound(ctx, "avg_pool", (x,), kw) + ctx.tolerance() / np.prod(kw["window"]),
                      "avg_pool(x, count_padding=True)", "the box convolution / window size")


@prop("avg_pool_divisor", op="avg_pool", concepts=("pooling-avg", "zero-padding"), axes=LAYER,
      statement="on a constant input c, avg_pool gives c everywhere without count_padding, and c * (elements / window) with it")
def avg_pool_divisor(ctx):
    """What the average divides by, pinned (the convention libraries get wrong).

    ``count_padding=False``: only input elements count, so a constant stays constant even at
    padded edges.  ``count_padding=True``: declared padding counts as zeros (the ceil-mode
    overhang never counts).
    """
    (x,), kw = pool_data(ctx, "avg_pool")
    c = x.dtype.type(ctx.draw(st.sampled_from([1, -3, 0.5]), label="c"))
    ones = np.full(x.shape, c, dtype=x.dtype)
    y = ctx.call("avg_pool", ones, **kw)
    expected = reference.avg_pool(ones, **kw)
    if not kw["count_padding"]:  # c wherever a window holds an input element (NaN: padding only)
        ctx.expect_within(y, np.where(np.isnan(expected), np.nan, float(c)), _bound(ctx, "avg_pool", (ones,), kw),
                          "avg_pool(c, count_padding=False)", "c everywhere", equal_nan=True)
    ctx.expect_within(y, expected, _bound(ctx, "avg_pool", (ones,), kw), f"avg_pool(c, count_padding={kw['count_padding']})",
                      "c times the counted fraction of each window", equal_nan=True)


@prop("lp_pool_from_avg_pool", op="lp_pool", concepts=("pooling-lp",), axes=LAYER, uses=("avg_pool",),
      statement="lp_pool(x, p) = (prod(window) * avg_pool(|x|^p, count_padding=True)) ** (1/p) (floor mode)")
def lp_pool_from_avg_pool(ctx):
    """The Lp norm of a window is the p-th root of its sum of ``|x|^p``: L2 pooling is the
    square root of a box filter of squares (section 9.3).  Within the pooling bounds.
    """
    (x,), kw = pool_data(ctx, "lp_pool", ceil_mode=False, also=("avg_pool",))
    p = kw.pop("p")
    y = ctx.call("lp_pool", x, p=p, **kw)
    ctx.nondegenerate(y)
    powered = (np.abs(x.astype(np.float64)) ** p).astype(x.dtype)
    avg = ctx.other("avg_pool", powered, count_padding=True, **kw)
    expected = (np.prod(kw["window"]) * avg.astype(np.float64)) ** (1.0 / p)
    bound = 8 * _bound(ctx, "lp_pool", (x,), {"p": p, **kw}) + 4 * np.finfo(x.dtype).eps * expected
    ctx.expect_within(y, expected, bound, f"lp_pool(x, p={p})", "(window * avg_pool(|x|^p)) ** (1/p)")


@prop("pool_output_size", op="max_pool", concepts=("pooling-downsampling", "shape-strided"), axes=LAYER, widened=WIDER,
      statement="O = (S + before + after - dilation (window - 1) - 1) // stride + 1, rounded up in ceil mode unless the last window would start in the after-padding")
def pool_output_size(ctx):
    """The output size of pooling with stride (pooling regions spaced ``stride`` apart)."""
    (x,), kw = pool_data(ctx, "max_pool")
    y = ctx.call("max_pool", x, check_shape=False, **kw)
    dilation = kw.get("dilation", (1,) * (x.ndim - 2))
    want = x.shape[:2] + tuple(pool_output_length(s, k, st_, a, b, kw["ceil_mode"], d) for s, k, st_, (a, b), d
                               in zip(x.shape[2:], kw["window"], kw["stride"], kw["padding"], dilation))
    ctx.expect(y.shape == want, f"max_pool(x, {kw}).shape={y.shape} for x.shape={x.shape}, but should be {want}")


@prop("pool_stride_downsampling", op="max_pool", concepts=("pooling-downsampling",), axes=LAYER, widened=WIDER,
      statement="max_pool with stride s = max_pool with stride 1 sampled every s (floor mode)")
def pool_stride_downsampling(ctx):
    """Pooling with downsampling reports every ``s``-th summary (section 9.3, figure 9.10).

    Exact.
    """
    (x,), kw = pool_data(ctx, "max_pool", ceil_mode=False)
    y = ctx.call("max_pool", x, **kw)
    ctx.nondegenerate(y)
    dense = ctx.call("max_pool", x, **{**kw, "stride": (1,) * (x.ndim - 2)})
    sampled = dense[(Ellipsis,) + tuple(slice(0, o * s, s) for o, s in zip(y.shape[2:], kw["stride"]))]
    ctx.expect_within(y, sampled, 0.0, f"max_pool(x, stride={kw['stride']})", "max_pool(x, stride=1) sampled every stride")


@prop("pool_regions_k_apart", op="max_pool", concepts=("pooling-downsampling",), axes=LAYER, widened=WIDER,
      statement="with window = stride = k and no padding, max_pool is the max over the k-blocks of x")
def pool_regions_k_apart(ctx):
    """Pooling regions spaced ``k`` apart summarise disjoint blocks: ``k`` times fewer outputs.

    Exact.
    """
    (x,), kw = pool_data(ctx, "max_pool", ceil_mode=False, padded=False, max_dilation=1)
    k = kw["window"]
    kw = {**kw, "stride": k}
    y = ctx.call("max_pool", x, **kw)
    blocks = x[(Ellipsis,) + tuple(slice(0, (s // kk) * kk) for s, kk in zip(x.shape[2:], k))]
    shape = x.shape[:2] + sum(((s // kk, kk) for s, kk in zip(x.shape[2:], k)), ())
    expected = blocks.reshape(shape).max(axis=tuple(range(3, 2 + 2 * len(k), 2)))
    ctx.nondegenerate(expected)
    ctx.expect_within(y, expected, 0.0, f"max_pool(x, window=stride={k})", "the max of each k-block")


@prop("pooling_invariance_exact", op="adaptive_max_pool", concepts=("pooling-invariance",), axes=LAYER,
      uses=("adaptive_avg_pool", "max_pool"),
      statement="global pooling is invariant to circular shifts; max_pool is invariant to a one-step shift that keeps every window's maximum inside it")
def pooling_invariance_exact(ctx):
    """Where pooling's invariance to translation is exact (section 9.3).

    Global max and average (``output_size`` all ones) ignore any circular shift.  Non-
    overlapping max pooling (window = stride = k >= 3, no padding) ignores a one-step shift
    when each window's maximum sits strictly inside it and the window edges hold only the
    smallest value.  Exact.
    """
    p = conv_problem(ctx, unit=True)
    x = ctx.exact(p.x[:1] + (min(p.x[1], 3),) + p.x[2:])
    axis = ctx.draw(st.integers(2, x.ndim - 1), label="axis")
    shift = ctx.draw(st.integers(1, x.shape[axis]), label="shift")
    ones = (1,) * (x.ndim - 2)
    for op in ("adaptive_max_pool", "adaptive_avg_pool"):
        if not ctx.has(op):
            continue
        y = ctx.call(op, x, output_size=ones)
        rolled = ctx.call(op, np.roll(x, shift, axis), output_size=ones)
        ctx.expect_within(rolled, y, ctx.tolerance(), f"{op}(roll(x, {shift}), output_size=1)", f"{op}(x, output_size=1)")
    if not ctx.has("max_pool"):
        return
    k = ctx.draw(st.integers(3, 5), label="k")
    blocks = ctx.draw(st.integers(1, 5), label="blocks")
    n = k * blocks
    low = float(np.min(x)) - 1
    line = np.full(n + 2, low)
    for b in range(blocks):  # the max of each block at an interior position, edges at the minimum
        at = 1 + b * k + ctx.draw(st.integers(1, k - 2), label=f"max_at[{b}]")
        line[at] = float(np.max(np.abs(x))) + b + 1
    base, moved = line[1:n + 1], line[0:n]  # moved: the same signal shifted by one step
    sig = lambda v: v.reshape((1, 1) + (1,) * (x.ndim - 3) + (n,)).astype(x.dtype)  # noqa: E731
    kw = dict(window=ones[:-1] + (k,), stride=ones[:-1] + (k,), padding=((0, 0),) * (x.ndim - 2), ceil_mode=False)
    a = ctx.call("max_pool", sig(base), **kw)
    b = ctx.call("max_pool", sig(moved), **kw)
    ctx.expect_within(b, a, 0.0, "max_pool(x shifted by one step)", "max_pool(x): every maximum stayed in its window")


@prop("max_pool_shift_statistic", op="max_pool", concepts=("pooling-invariance",), axes=LAYER, widened=WIDER,
      statement="the outputs of stride-1 max pooling unchanged by a one-step shift are exactly those whose window maximum survives it (fraction reported)")
def max_pool_shift_statistic(ctx):
    """Approximate invariance, quantified (section 9.3, figure 9.8).

    Shifting the input by one step changes nearly every detector value but only some pooled
    values: those windows whose maximum leaves them.  The backend's unchanged set must equal
    the definition's; the report gives the unchanged fraction (about half for window 3 on
    random data, against none of the detectors).
    """
    (x,), kw = pool_data(ctx, "max_pool", padded=False, ceil_mode=False)
    kw = {**kw, "stride": (1,) * (x.ndim - 2)}
    axis = x.ndim - 1
    shifted = np.concatenate([take(x, axis, slice(1, None)), take(x, axis, slice(0, 1))], axis=axis)
    y, ys = ctx.call("max_pool", x, **kw), ctx.call("max_pool", shifted, **kw)
    same = y == ys
    want = reference.max_pool(x, **kw) == reference.max_pool(shifted, **kw)
    ctx.expect(np.array_equal(same, want),
               f"max_pool left {int(same.sum())} of {same.size} outputs unchanged by a one-step shift, "
               f"but should leave {int(want.sum())} (the windows whose maximum survives)")


@prop("adaptive_pool_fixed_size", op="adaptive_max_pool", concepts=("pooling-variable-size",), axes=LAYER,
      widened=WIDER,
      uses=("max_pool",),
      statement="adaptive pooling gives output_size whatever the input size; for sizes divisible by it, it is max_pool with window = stride = S / O (quadrants for O = 2)")
def adaptive_pool_fixed_size(ctx):
    """Pooling makes a fixed-size summary of inputs of varying size (section 9.3, e.g. four
    quadrants).  Exact.
    """
    p = conv_problem(ctx, unit=True)
    size = ctx.draw(st.tuples(*(st.integers(1, 3) for _ in range(p.ndim))), label="output_size")
    scale = ctx.draw(st.tuples(*(st.integers(1, 6) for _ in range(p.ndim))), label="scale")
    x = maker(ctx)(p.x[:1] + (min(p.x[1], 3),) + tuple(o * s for o, s in zip(size, scale)))
    y = ctx.call("adaptive_max_pool", x, output_size=size)
    ctx.nondegenerate(y)
    expected = ctx.other("max_pool", x, window=scale, stride=scale, padding=((0, 0),) * p.ndim, ceil_mode=False)
    ctx.expect_within(y, expected, 0.0, f"adaptive_max_pool(x, output_size={size})", f"max_pool(x, window=stride={scale})")
    longer = maker(ctx)(x.shape[:2] + tuple(s + ctx.draw(st.integers(0, 7), label=f"extra[{i}]")
                                            for i, s in enumerate(x.shape[2:])))
    z = ctx.call("adaptive_max_pool", longer, output_size=size)
    ctx.expect(z.shape == x.shape[:2] + size, f"adaptive_max_pool(x of {longer.shape}).shape={z.shape}, but should be {x.shape[:2] + size}")


@prop("learned_rotation_invariance", op="conv", concepts=("learned-invariance",), axes=("dtype", ("ndim", (2,))),
      statement="the max over the channels of the four 90-degree rotations of one kernel, applied to rot90(x), is rot90 of that max on x")
def learned_rotation_invariance(ctx):
    """Pooling over separately parametrised filters learns invariance (section 9.3, figure 9.9).

    A bank of the four rotations of a square kernel, stride 1 and the same padding on every
    side: rotating the input rotates each response map and permutes the bank, so the
    maximum over the bank is rotated, not changed.  Exact.
    """
    p = conv_problem(ctx, max_groups=1, max_channels=1, unit=True)
    k = ctx.draw(st.integers(1, 5), label="k")
    pad = ctx.draw(st.integers(0, k - 1), label="padding")
    side = ctx.draw(st.integers(max(1, k - 2 * pad), 20), label="side")
    x = ctx.exact((p.x[0], 1, side, side))
    w = ctx.exact((1, 1, k, k))
    bank = np.concatenate([np.rot90(w, r, axes=(2, 3)) for r in range(4)]).copy()
    kw = dict(stride=(1, 1), padding=((pad, pad), (pad, pad)), dilation=(1, 1), groups=1)
    m = ctx.call("conv", x, bank, **kw).max(axis=1)
    ctx.nondegenerate(m)
    m_rot = ctx.call("conv", np.rot90(x, 1, axes=(2, 3)).copy(), bank, **kw).max(axis=1)
    ctx.expect_within(m_rot, np.rot90(m, 1, axes=(1, 2)), ctx.tolerance(), "max over the bank of conv(rot90(x))",
                      "rot90 of the max over the bank of conv(x)")
