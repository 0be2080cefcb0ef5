"""Drawing helpers shared by the property modules (draws are labelled through ``ctx``)."""

from __future__ import annotations

import math

import numpy as np

from hypothesis import strategies as st

from convspec._contract.accuracy import finfo
from convspec._contract.functions import conv_output_shape
from convspec._catalogue.strategies import conv_problems, pool_problems, signal_problems, unshared_problems


def for_each(*ops):
    """Decorator: call ``register(op)`` once per contract function, so one identity written
    once becomes one property per function (``correlate_linearity``, ``convolve_linearity``)."""

    def apply(register):
        for op in ops:
            register(op)
        return register

    return apply


def flip(w, axes=None):
    """``w`` reversed on ``axes`` (default: every axis)."""
    axes = range(w.ndim) if axes is None else axes
    index = [slice(None)] * w.ndim
    for a in axes:
        index[a] = slice(None, None, -1)
    return w[tuple(index)]


def signal_shapes(ctx, *, mode=None, max_size=None):
    """``(x_shape, w_shape)`` for the example's ``ndim`` and ``mode`` axes."""
    ndim = ctx.axis("ndim")
    mode = mode or ctx.axis("mode")
    x_shape, w_shape = ctx.draw(signal_problems(ndim, mode), label="shapes")
    if max_size:
        x_shape = tuple(min(m, max_size) for m in x_shape)
        if mode == "valid":
            w_shape = tuple(min(k, m) for k, m in zip(w_shape, x_shape))
    return x_shape, w_shape


def maker(ctx, real=False, make=None):
    """How the example's arrays are made, ``shape -> array``: ``make`` when given, else integer
    data for an integer dtype, real-valued data if ``real``, exact-mode data otherwise.  Decided
    at the first array, with the seed drawn before the dtype as ``Context.exact`` and
    ``Context.real`` draw them, so examples replay as they were drawn."""
    if make is not None:
        return make

    def made(shape):
        ctx.rng  # noqa: B018 - the seed first, then the dtype: the order of the draws
        if ctx.dtype.kind in "iu":
            return ctx.integers(shape, ctx.dtype)
        return (ctx.real if real else ctx.exact)(shape)

    return made


def signal_data(ctx, *, mode=None, real=False, max_size=None, make=None):
    """Arrays ``x, w`` for ``correlate``/``convolve``: exact-mode data unless ``real`` (or ``make``)."""
    x_shape, w_shape = signal_shapes(ctx, mode=mode, max_size=max_size)
    make = maker(ctx, real, make)
    return make(x_shape), make(w_shape)


def conv_problem(ctx, **limits):
    """A drawn :class:`~convspec._catalogue.strategies.ConvProblem` for the example's ``ndim``."""
    return ctx.draw(conv_problems(ctx.axis("ndim"), **limits), label="problem")


def conv_data(ctx, *, real=False, make=None, **limits):
    """``(x, w, kwargs)`` for ``conv``: exact-mode data unless ``real`` (or ``make``)."""
    p = conv_problem(ctx, **limits)
    make = maker(ctx, real, make)
    return make(p.x), make(p.w), p.kwargs


def grad_data(ctx, op, *, real=False, make=None, **limits):
    """``(args, kwargs)`` of a gradient call: ``(gy, w)`` with ``input_shape`` or ``(gy, x)`` with ``weight_shape``."""
    x, w, kw = conv_data(ctx, real=real, make=make, **limits)
    gy = maker(ctx, real, make)(conv_output_shape(x.shape, w.shape, **kw))
    if op == "conv_grad_input":
        return (gy, w), {"input_shape": x.shape, **kw}
    return (gy, x), {"weight_shape": w.shape, **kw}


def pool_features(ctx, *ops) -> dict:
    """``pool_problems`` limits for the optional pooling features every one of ``ops``
    declares (a dilation, padding up to the window span)."""
    caps = ctx.backend.capabilities
    return {"max_dilation": 3 if caps.has_feature("pool_dilation", *ops) else 1,
            "wide": caps.has_feature("pool_padding_to_window", *ops)}


def integer_conv_data(ctx, kind=None, **limits):
    """``(x, w, kwargs)`` of an integer ``conv`` (docs/explanation/contract.md, integer data): ``x`` of
    the example's integer dtype, ``w`` of one the backend declares for ``conv`` (drawn; ``kind``
    of :meth:`~convspec._catalogue.property.Context.integers`, drawn when ``None``), and
    drawn zero points -- ``w_zero_point`` per output channel unless a restriction excludes it."""
    from convspec._contract.functions import INTEGER_DTYPES

    p = conv_problem(ctx, **limits)
    w_dtype = ctx.draw(st.sampled_from([d for d in ctx.backend.capabilities.dtypes_for("conv") if d in INTEGER_DTYPES]),
                       label="w_dtype")
    x, w = ctx.integers(p.x, ctx.dtype, kind=kind), ctx.integers(p.w, w_dtype, kind=kind)
    zero_point = lambda dtype: st.one_of(st.just(0), st.integers(int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)))  # noqa: E731
    zx = ctx.draw(zero_point(ctx.dtype), label="x_zero_point")
    per_channel = "per_tensor_zero_points" not in ctx.backend.capabilities.restrictions_for("conv")
    zw = ctx.draw(st.one_of(zero_point(w_dtype), st.lists(zero_point(w_dtype), min_size=p.w[0], max_size=p.w[0]))
                  if per_channel else zero_point(w_dtype), label="w_zero_point")
    zw = np.asarray(zw, dtype=w_dtype) if isinstance(zw, list) else zw
    return x, w, {**p.kwargs, "x_zero_point": zx, "w_zero_point": zw}


def pool_data(ctx, op, *, real=False, also=(), **limits):
    """``(args, kwargs)`` of a pooling call (``p`` drawn for ``lp_pool``, ``count_padding`` for
    ``avg_pool``); the optional features are drawn when ``op`` and the functions ``also``
    called with the same keywords declare them (``limits`` may switch them off).  Integer
    data when the example's dtype is an integer one."""
    ctx.axis("dtype")  # drawn before the problem: the order its examples replay in
    make = maker(ctx, real)
    limits = {**pool_features(ctx, op, *(o for o in also if ctx.has(o))), **limits}
    if op.startswith("adaptive"):
        p = conv_problem(ctx, unit=True)
        x = make(p.x[:1] + (min(p.x[1], 4),) + p.x[2:])
        size = ctx.draw(st.tuples(*(st.integers(1, s) for s in x.shape[2:])), label="output_size")
        return (x,), {"output_size": size}
    p = ctx.draw(pool_problems(ctx.axis("ndim"), **limits), label="problem")
    kwargs = p.kwargs
    if op == "lp_pool":
        kwargs = {"p": ctx.draw(st.sampled_from([2, 1, 3, 1.5]), label="p"), **kwargs}
    if op == "avg_pool":
        kwargs = {**kwargs, "count_padding": ctx.draw(st.booleans(), label="count_padding")}
    return (make(p.x),), kwargs


def unpool_data(ctx, *, real=False, holes=False):
    """``(y, indices), {"output_size": S}`` of a ``max_unpool`` call: the max pooling of a drawn
    input and its indices, windows no closer than their length (so positions are distinct).
    ``holes``: some indices (drawn: none, some, or all) are -1, as ``max_pool`` gives for a
    window of padding only (a dilated pool's), which puts nothing."""
    from convspec._contract import reference

    p = ctx.draw(pool_problems(ctx.axis("ndim"), ceil_mode=False), label="problem")
    kw = {**p.kwargs, "stride": tuple(max(s, k) for s, k in zip(p.stride, p.window))}
    x = maker(ctx, real)(p.x)
    y = reference.max_pool(x, **kw).astype(x.dtype)
    indices = reference.max_pool_indices(x, **kw)
    if holes:
        share = ctx.draw(st.sampled_from((0.0, 0.3, 1.0)), label="padding-only windows")
        gone = ctx.rng.random(indices.shape) < share
        indices = np.where(gone, -1, indices)
        y = np.where(gone, maker(ctx, real)(y.shape), y).astype(y.dtype)  # their values must not be placed
    return (y, indices), {"output_size": tuple(p.x[2:])}


def unshared_data(ctx, op, *, real=False, **limits):
    p = ctx.draw(unshared_problems(ctx.axis("ndim"), tiled=op == "tiled_conv", **limits), label="problem")
    make = ctx.real if real else ctx.exact
    return (make(p.x), make(p.w)), p.kwargs


def call_data(ctx, op, *, real=False, make=None):
    """Positional arrays and keywords of one valid call of ``op`` (``make``: how the arrays of
    the signal functions, ``conv`` and its gradients are made)."""
    if op == "conv":
        x, w, kwargs = integer_conv_data(ctx) if ctx.dtype.kind in "iu" else conv_data(ctx, real=real, make=make)
        return (x, w), kwargs
    if op in ("correlate", "convolve"):
        x, w = signal_data(ctx, real=real, make=make)
        return (x, w), {"mode": ctx.axis("mode")}
    if op.startswith("conv_grad"):
        return grad_data(ctx, op, real=real, make=make)
    if op.endswith("_pool"):
        return pool_data(ctx, op, real=real)
    if op == "max_unpool":
        return unpool_data(ctx, real=real)
    return unshared_data(ctx, op, real=real)


#: Magnitude classes of real-valued accuracy examples (see :func:`scaled`); ``subnormal`` joins
#: from catalogue 0.2.0 on.
MAGNITUDES = ("ordinary", "huge", "tiny", "mixed")


def _room(dtype) -> bool:
    """Whether the long-double reference has the range to compute ``dtype``'s extremes exactly
    (x86's 80-bit long double does; where it is plain double, only ordinary magnitudes are drawn)."""
    return np.finfo(np.longdouble).maxexp > 2 * np.finfo(dtype).maxexp


def scaled(ctx, shapes, *, terms, headroom=0):
    """Real-valued arrays of ``shapes`` for an accuracy property, at a magnitude class drawn
    for the example, wherever the contract's result stays finite and representable:

    * ``ordinary`` -- one scale in 1e-3 .. 1e3 per array (where most bugs show);
    * ``huge`` -- outputs within ``2**(8 + log2(terms) + headroom)`` of overflow: a power or
      an intermediate sum computed in the input dtype overflows;
    * ``tiny`` -- products (single arrays: values) just above the underflow threshold, still
      normal numbers: a power computed in the input dtype underflows to zero;
    * ``mixed`` -- two arrays: one huge, one tiny, products of ordinary size; one array:
      every element at its own scale over the whole range (huge and tiny in one window);
    * ``subnormal`` (catalogue 0.2.0) -- the first array below the normal range (subnormal
      numbers), the second large enough that their products are ordinary (``1e-39 * 1e30 =
      1e-9`` in float32); one array: values below the normal range, so a mean of them is
      one too.  A backend that reads subnormal operands as zero (denormals-are-zero, a
      fast-math build) misses the bound, unless it declares ``subnormals: "flush"``.  Drawn for
      backends of the direct class (a transform's normwise bound is too loose there to tell).

    ``terms`` is how many products (or values) one output sums; ``headroom`` the extra bits an
    algorithm class needs for its intermediate values (a transform of length L: ``2 log2 L``).
    """
    dtype = ctx.dtype
    # subnormal operands carry an absolute error a transform spreads over the whole output, scaled
    # by the other operand: the normwise classes' bounds cover it, but say nothing there
    direct = ctx.backend.capabilities.accuracy == "direct"
    classes = MAGNITUDES + (("subnormal",) if ctx.since("0.2.0") and direct else ())
    kind = ctx.draw(st.sampled_from(classes if _room(dtype) else ("ordinary",)), label="magnitude")
    rng = ctx.rng
    fi = finfo(dtype)
    room = 8 + math.ceil(math.log2(terms + 1)) + headroom
    top, bottom = fi.maxexp - room, fi.minexp + room
    if kind == "ordinary":
        return [ctx.real(s) for s in shapes]
    if kind == "subnormal":
        below = fi.minexp - 8  # 2**below is subnormal, with nmant - 8 significant bits left
        exps = [below - 4] if len(shapes) == 1 else [below, -below - 20] + [0] * (len(shapes) - 2)
        return [(rng.standard_normal(s) * np.ldexp(np.longdouble(1), e)).astype(dtype) for s, e in zip(shapes, exps)]
    if len(shapes) == 1:
        if kind == "mixed":
            exps = rng.integers(bottom, top, size=shapes[0])
            return [(rng.standard_normal(shapes[0]) * np.ldexp(1.0, exps).astype(np.longdouble)).astype(dtype)]
        exps = [top if kind == "huge" else bottom]
    else:
        total = {"huge": top, "tiny": bottom, "mixed": 0}[kind]
        first = top if kind == "mixed" else total // 2
        exps = [first, total - first] + [0] * (len(shapes) - 2)
    return [(rng.standard_normal(s) * np.ldexp(np.longdouble(1), e)).astype(dtype) for s, e in zip(shapes, exps)]


def fft_headroom(ctx, length) -> int:
    """Extra bits a backend not declared direct needs for its intermediate values (a transform
    of ``length`` points sums up to ``length`` terms on each side of a product)."""
    return 0 if ctx.backend.capabilities.accuracy == "direct" else 2 * math.ceil(math.log2(max(length, 2)))


def pad_axis(a, axis, before=0, after=0):
    widths = [(0, 0)] * a.ndim
    widths[axis] = (before, after)
    return np.pad(a, widths)


def take(a, axis, index):
    """``a[..., index, ...]`` with ``index`` (a slice) on ``axis``."""
    sl = [slice(None)] * a.ndim
    sl[axis] = index
    return a[tuple(sl)]


def expect_rejected(ctx, op, outcome, name, argument):
    """A call with a bad argument (``name``) must raise what the backend declares
    (``validates_arguments``): ValueError naming ``argument``, or the library's own form."""
    raised = outcome.raised
    types, naming = ctx.backend.capabilities.validation()
    want = " or ".join(types) + (f" naming {argument!r}" if naming else "")
    if raised is None:
        ctx.expect(False, f"{op}(...) with {name} returned {type(outcome.value).__name__}, but should raise {want}")
    elif any(raised.is_a(t) for t in types):
        ctx.expect(not naming or argument in raised.message,
                   f"{op}(...) with {name} raised {raised.type}({raised.message!r}), but the message should name "
                   f"{argument!r}")
    else:
        ctx.expect(False, f"{op}(...) with {name} raised {raised.type}: {raised.message}, but should raise {want}")
