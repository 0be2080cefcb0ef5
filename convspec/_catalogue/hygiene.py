"""Properties every contract function owes its callers, whatever it computes (docs/explanation/contract.md).

Registered per function as ``<op>_<name>``: dtypes kept, inputs left alone, any memory
layout accepted, the same answer twice, results owned by the caller, declared capabilities
honoured, bad arguments rejected.
"""

from __future__ import annotations

import time

import numpy as np
from hypothesis import strategies as st

from convspec._contract import reference
from convspec._contract.functions import (COMPLEX_DTYPES, INTEGER_DTYPES, LOW_PRECISION_DTYPES, NDIMS, OPS, SIGNAL_OPS,
                                          arg_names, output_dtype)
from convspec._catalogue.property import describe_call, prop
from convspec._contract.restrictions import RESTRICTIONS
from convspec._catalogue.strategies import as_layout, layouts
from convspec._catalogue.drawing import call_data, expect_rejected, for_each, maker


#: Every dtype a function may declare is drawn by the hygiene properties (low precision, integer
#: and complex data too) from catalogue 0.2.0 on: what a function owes its callers does not
#: depend on the data.
WIDER = ("0.2.0", LOW_PRECISION_DTYPES + INTEGER_DTYPES + COMPLEX_DTYPES)


def _axes(op):
    return ("dtype", "ndim", "mode") if op in SIGNAL_OPS else ("dtype", "ndim")


def _reference(op, args, kwargs):
    return getattr(reference, op)(*args, **kwargs)


@for_each(*OPS)
def _dtype(op):
    @prop(f"{op}_dtype_preservation", op=op, widened=WIDER, concepts=("dtype-preservation",), axes=_axes(op),
          statement=f"{op}(x, w).dtype = x.dtype (float32 stays float32, float64 stays float64; an integer conv "
                    "gives int32)")
    def dtype(ctx):
        args, kwargs = call_data(ctx, op, real=True)
        y = ctx.call(op, *args, **kwargs)
        want = output_dtype(op, args)
        ctx.expect(y.dtype == want, f"{op}(...).dtype={y.dtype} for {args[0].dtype} inputs, but should be {want}")

    dtype.__doc__ = """The result has the dtype of the inputs (docs/explanation/contract.md).

    Promoting float32 to float64 doubles memory and hides precision bugs; demoting loses
    accuracy silently.  The one exception is the contract's: an integer ``conv`` gives int32,
    where its exact sums fit.
    """


@for_each(*OPS)
def _immutability(op):
    @prop(f"{op}_input_immutability", op=op, widened=WIDER, concepts=("input-immutability",), axes=_axes(op),
          statement=f"{op}(x, w) leaves x and w (and the buffers they view) unchanged")
    def immutability(ctx):
        args, kwargs = call_data(ctx, op)
        kind = ctx.draw(st.sampled_from(("contiguous",) + tuple(layouts().elements)), label="layout")
        views = [a if kind == "contiguous" else as_layout(a, kind) for a in args]
        bases = [v.base if v.base is not None else v for v in views]
        before = [b.copy() for b in bases]
        ctx.call(op, *views, **kwargs)
        for name, b, was in zip(arg_names(op), bases, before):
            ctx.expect(np.array_equal(b, was, equal_nan=True),
                       f"{op}(...) changed {name} in place ({int(np.sum(b != was))} entries), but should leave its inputs unchanged")

    immutability.__doc__ = """A call never writes into its inputs (docs/explanation/contract.md).

    Checked on the whole buffer behind each input, for plain and non-contiguous views.
    """


@for_each(*OPS)
def _layout(op):
    @prop(f"{op}_memory_layout", op=op, widened=WIDER, concepts=("memory-layout",), axes=_axes(op),
          statement=f"{op} gives the same result for Fortran-ordered, transposed, strided, reversed and offset views as for contiguous inputs")
    def layout(ctx):
        args, kwargs = call_data(ctx, op)
        kinds = ctx.draw(st.tuples(layouts(), st.sampled_from((None,) + tuple(layouts().elements))), label="layouts")
        views = [as_layout(a, k) if k else a for a, k in zip(args, kinds)]
        contiguous = np.array(ctx.call(op, *args, **kwargs), copy=True)
        ctx.nondegenerate(contiguous)
        y = ctx.call(op, *views, **kwargs)
        names = ", ".join(f"{n} as {k or 'contiguous'}" for n, k in zip(arg_names(op), kinds))
        ctx.expect_equal(y, contiguous, f"{op}({names})", f"{op} on the same values held contiguously", equal_nan=True)

    layout.__doc__ = """Non-contiguous inputs are read by index, not by memory order (docs/explanation/contract.md).

    The values are those of exact-mode data; only the strides differ.  Compared with the
    backend's own answer on contiguous copies, so the property fails only for its own reason
    (a wrong answer on contiguous data is the definition properties' to report), and a
    backend that reads ``x.data`` in memory order fails.
    """


@for_each(*OPS)
def _determinism(op):
    @prop(f"{op}_determinism", op=op, widened=WIDER, concepts=("determinism",), axes=_axes(op),
          statement=f"two calls of {op} on the same inputs give bit-identical results")
    def determinism(ctx):
        args, kwargs = call_data(ctx, op, real=True)
        first = np.array(ctx.call(op, *args, **kwargs), copy=True)
        second = ctx.call(op, *args, **kwargs)
        if first.shape != second.shape or not np.array_equal(first, second, equal_nan=True):
            ctx.expect(False, f"{op}(...) gave results of shapes {first.shape} and {second.shape}, differing in "
                              f"{int(np.sum(first != second)) if first.shape == second.shape else 'shape'} entries, "
                              "on identical inputs, but should be deterministic")

    determinism.__doc__ = """Identical calls return identical bits, on real-valued data.

    Holds for every algorithm class: a fixed summation order gives the same rounding.
    """


@for_each(*OPS)
def _ownership(op):
    @prop(f"{op}_output_ownership", op=op, widened=WIDER, concepts=("output-ownership",), axes=_axes(op),
          statement=f"a result of {op} shares no memory with the inputs and is neither overwritten nor reused by later calls on new data")
    def ownership(ctx):
        args, kwargs = call_data(ctx, op)
        y1 = ctx.call(op, *args, **kwargs)
        ctx.expect(not ctx.shares_input(y1),
                   f"{op}(...) returned an array that shares memory with its input, but should return its own array")
        kept = np.array(y1, copy=True)
        make = maker(ctx)
        # new values of the same shapes (max_unpool's indices stay: they must be distinct positions)
        fresh = tuple(a if (op, i) == ("max_unpool", 1) else make(a.shape).astype(a.dtype) for i, a in enumerate(args))
        expected = _reference(op, fresh, kwargs)
        ctx.nondegenerate(expected)
        y2 = ctx.call(op, *fresh, **kwargs)
        now = ctx.current(y1)
        ctx.expect(now is not None and now.shape == kept.shape and np.array_equal(now, kept, equal_nan=True),
                   f"{op}(...) result was changed by a later call "
                   f"({int(np.sum(now != kept)) if now is not None and now.shape == kept.shape else 'all'} entries), "
                   "but should be owned by the caller")
        ctx.expect_equal(y2, expected, f"second {op}(...) on new data of the same shapes", "the definition (not a stale result)",
                         equal_nan=True)  # NaN only where the definition gives it (an average over padding only)

    ownership.__doc__ = """Results belong to the caller (docs/explanation/contract.md).

    A later call with new data of the same shapes must neither write into an earlier result
    (a reused output buffer) nor return a stale one (a cache keyed by shape).
    """


@for_each(*OPS)
def _declared(op):
    @prop(f"{op}_declared_capabilities", op=op, concepts=("dtype-preservation", "dimensions"), axes=(), only_if="narrowed",
          statement=f"{op} raises for every dtype and dimension its declaration excludes, instead of returning something")
    def declared(ctx):
        caps = ctx.backend.capabilities
        dtypes, ndims = caps.dtypes_for(op), caps.ndims_for(op)
        cases = [("dtype", d) for d in ("float32", "float64") if d not in dtypes]
        cases += [("ndim", n) for n in NDIMS if n not in ndims]
        axis, value = ctx.draw(st.sampled_from(cases), label="unsupported")
        ctx.fix_axes(dtype=value if axis == "dtype" else dtypes[0], ndim=value if axis == "ndim" else ndims[0],
                     mode="full")
        args, kwargs = call_data(ctx, op, real=True)
        outcome = ctx.attempt(op, *args, **kwargs)
        if outcome.raised is not None:
            return
        ctx.expect(False, f"{op}(...) with {axis}={value!r} returned {type(outcome.value).__name__}, but "
                          f"{axis}={value!r} is declared unsupported, so it should raise")

    declared.__doc__ = """What a backend declares unsupported must raise a clean error (docs/explanation/contract.md).

    Applies when ``convspec_capabilities`` narrows ``dtypes`` or ``ndims``; the declared
    cases are checked by every other property.
    """
    return declared


@for_each(*OPS)
def _restricted(op):
    @prop(f"{op}_declared_restrictions", op=op, concepts=("validation",), axes=(), only_if="restricted",
          statement=f"{op} raises for every case a declared restriction excludes, instead of returning something")
    def restricted(ctx):
        caps = ctx.backend.capabilities
        name = ctx.draw(st.sampled_from(caps.restrictions_for(op)), label="restriction")
        dtypes = [d for d in caps.dtypes_for(op) if d in RESTRICTIONS[name].dtypes]
        ctx.fix_axes(dtype=ctx.draw(st.sampled_from(dtypes), label="dtype"),
                     ndim=ctx.draw(st.sampled_from(caps.ndims_for(op)), label="ndim"), mode="full")
        args, kwargs = RESTRICTIONS[name].violate(op, *call_data(ctx, op, real=True), maker(ctx, real=True))
        assert RESTRICTIONS[name].excludes(op, args, kwargs), f"{name}: the case built does not violate it"
        outcome = ctx.attempt(op, *args, **kwargs)
        ctx.expect(outcome.raised is not None,
                   f"{describe_call(op, args, kwargs)} returned {type(outcome.value).__name__}, but the backend declares "
                   f"{name!r} ({RESTRICTIONS[name].statement}), so it should raise (convspec.Unsupported or its "
                   "own error)")

    restricted.__doc__ = """A declared restriction is real: the cases it excludes raise (docs/howto/declare.md).

    Applies when ``convspec_capabilities["restrictions"]`` names one for this function; the
    examples it excludes are declined (never passed) by every other property.
    """
    return restricted


@for_each(*OPS)
def _bad_arguments(op):
    @prop(f"{op}_rejects_bad_arguments", op=op, widened=WIDER, concepts=("validation",), axes=_axes(op), only_if="validates_arguments",
          statement=f"{op} raises ValueError naming the argument for invalid arguments")
    def bad_arguments(ctx):
        args, kwargs = call_data(ctx, op, real=True)
        cases = _bad_cases(op, args, kwargs)
        name = ctx.draw(st.sampled_from(sorted(cases)), label="bad argument")
        argument, bad_args, bad_kwargs = cases[name]
        expect_rejected(ctx, op, ctx.attempt(op, *bad_args, **bad_kwargs), name, argument)

    bad_arguments.__doc__ = """Bad arguments are rejected with a ``ValueError`` naming the argument (docs/howto/declare.md).

    Applies to backends that declare ``validates_arguments`` (every bundled one does): ``True``
    for ``ValueError`` naming convspec's argument, or a library's own form, ``{"raises":
    ["RuntimeError", ...], "names_argument": False}``.
    """


def _bad_cases(op, args, kwargs):
    """``name -> (argument the message must name, args, kwargs)`` for one valid call."""
    x = args[0]
    w = args[1] if len(args) > 1 else None
    nd = x.ndim - 2
    if op.startswith("adaptive"):
        return {
            "output size larger than input": ("output_size", args, {"output_size": tuple(s + 1 for s in x.shape[2:])}),
            "output size of the wrong length": ("output_size", args, {"output_size": kwargs["output_size"] + (1,)}),
            "2-D input": ("ndim", (x.reshape(x.shape[0], -1),), kwargs),
        }
    if op.endswith("_pool"):
        k = kwargs["window"][0]
        cases = {
            "zero window": ("window", args, {**kwargs, "window": (0,) + kwargs["window"][1:]}),
            "zero stride": ("stride", args, {**kwargs, "stride": (0,) + kwargs["stride"][1:]}),
            "2-D input": ("ndim", (x.reshape(x.shape[0], -1),), kwargs),
        }
        # invalid whether or not the backend declares pool_padding_to_window
        cases["padding of the whole window"] = ("padding", args, {**kwargs, "padding": ((k, 0),) + kwargs["padding"][1:]})
        if "dilation" in kwargs:
            cases["zero dilation"] = ("dilation", args, {**kwargs, "dilation": (0,) + kwargs["dilation"][1:]})
        return cases
    if op == "max_unpool":
        size = int(np.prod(kwargs["output_size"]))
        return {
            "indices past the output": ("indices", (x, np.full_like(w, size)), kwargs),
            "indices of the wrong shape": ("indices", (x, w[..., :1] if w.shape[-1] > 1 else np.concatenate([w, w], -1)),
                                           kwargs),
            "float indices": ("indices", (x, w.astype(x.dtype)), kwargs),
            "output size of the wrong length": ("output_size", args, {"output_size": kwargs["output_size"] + (1,)}),
        }
    if op.startswith("conv_grad"):
        shape_name = "input_shape" if op == "conv_grad_input" else "weight_shape"
        grown = tuple(kwargs[shape_name][:2]) + tuple(s + 50 for s in kwargs[shape_name][2:])
        return {
            f"{shape_name} that does not give gy's shape": (shape_name, args, {**kwargs, shape_name: grown}),
            "zero stride": ("stride", args, {**kwargs, "stride": (0,) + kwargs["stride"][1:]}),
            "negative padding": ("padding", args, {**kwargs, "padding": ((-1, 0),) + kwargs["padding"][1:]}),
        }
    if op in ("local_conv", "tiled_conv"):
        cases = {
            "zero stride": ("stride", args, {**kwargs, "stride": (0,) + kwargs["stride"][1:]}),
            "negative padding": ("padding", args, {**kwargs, "padding": ((-1, 0),) + kwargs["padding"][1:]}),
            "channel mismatch": ("C_in", (np.concatenate([x, x], axis=1), w), kwargs),
            "kernel of the wrong rank": ("w.ndim", (x, w[..., None]), kwargs),
        }
        if op == "local_conv":
            cases["weights for other output locations"] = ("w.shape", (x, np.concatenate([w, w], axis=1)), kwargs)
        return cases
    if op in SIGNAL_OPS:
        cases = {
            "unknown mode": ("mode", (x, w), {"mode": "middle"}),
            "kernel ndim differs": ("ndim", (x, w[None]), kwargs),
            "4-D input": ("ndim", (x.reshape((1,) * (4 - x.ndim) + x.shape), w.reshape((1,) * (4 - w.ndim) + w.shape)), kwargs),
            "valid with m < k": ("valid", (x, np.ones(tuple(m + 1 for m in x.shape), dtype=x.dtype)), {"mode": "valid"}),
        }
        return cases
    cases = {
        "zero stride": ("stride", (x, w), {**kwargs, "stride": (0,) + kwargs["stride"][1:]}),
        "zero dilation": ("dilation", (x, w), {**kwargs, "dilation": (0,) + kwargs["dilation"][1:]}),
        "negative padding": ("padding", (x, w), {**kwargs, "padding": ((-1, 0),) + kwargs["padding"][1:]}),
        "wrong ndim of x": ("ndim", (x[0], w), kwargs),
        "groups not dividing C_in": ("groups", (x, w), {**kwargs, "groups": x.shape[1] + 1}),
        "channel mismatch": ("w.shape", (x, np.concatenate([w, w], axis=1)), kwargs),
        "kernel larger than padded input": (
            "w.shape", (x, np.ones(w.shape[:2] + tuple(s + a + b + 1 for s, (a, b) in zip(x.shape[2:], kwargs["padding"])), dtype=w.dtype)),
            {**kwargs, "dilation": (1,) * nd}),
        "stride of the wrong length": ("stride", (x, w), {**kwargs, "stride": kwargs["stride"] + (1,)}),
    }
    return cases


#: Worker threads the concurrency property calls from at once.
THREADS = 4


@for_each(*OPS)
def _threads(op):
    @prop(f"{op}_worker_threads", op=op, concepts=("determinism",), axes=_axes(op), widened=WIDER, added="0.2.0",
          statement=f"{op} called from {THREADS} worker threads at once gives each call the answer it gives on the "
                    "main thread, bit for bit")
    def threads(ctx):
        args, kwargs = call_data(ctx, op, real=True)
        make = maker(ctx, real=True)
        inputs = [args] + [tuple(a if (op, i) == ("max_unpool", 1) else make(a.shape).astype(a.dtype)
                                 for i, a in enumerate(args)) for _ in range(THREADS // 2 - 1)]
        alone = [np.array(ctx.call(op, *a, **kwargs), copy=True) for a in inputs]
        calls = [(a, kwargs) for a in inputs] * 2  # every input twice, all at once
        together = ctx.call_threaded(op, calls, THREADS)
        for i, (y, want) in enumerate(zip(together, alone * 2)):
            ctx.expect_within(y, want, 0.0, f"{op}(inputs {i % len(inputs) + 1}) on worker thread {i + 1} of {THREADS}",
                              f"the same call's answer on the main thread ({len(calls)} calls at once, "
                              f"{len(inputs)} inputs)", equal_nan=True)

    threads.__doc__ = f"""A function called from worker threads gives the answers it gives on the main thread
    (docs/explanation/contract.md).

    Programs call convolutions from thread pools (data loaders, servers, a framework's own
    threads).  {THREADS} threads start their calls at once, each input twice: a shared scratch
    buffer, a cache keyed by shape, or thread-local state set up only on the main thread gives
    some thread another call's answer or garbage.  Compared bit for bit with the same calls
    made one at a time on the main thread, first.
    """


@for_each("correlate", "conv")
def _sustained(op):
    @prop(f"{op}_sustained_calls", op=op, concepts=("determinism",), axes=_axes(op), single=True, added="0.2.0",
          statement=f"hundreds of {op} calls over tens of seconds (the default profile: 320 over 21 s) each give the "
                    "definition")
    def sustained(ctx):
        profile = ctx.profile
        calls, seconds = (profile.sustained_calls, profile.sustained_seconds) if profile is not None else (40, 0.0)
        start = time.monotonic()
        made = 0
        args, kwargs = call_data(ctx, op)
        while made < calls or time.monotonic() - start < seconds:
            if made:
                args, kwargs = _like(ctx, args, kwargs)
            expected = _reference(op, args, kwargs)
            y = ctx.call(op, *args, **kwargs)
            made += 1
            ctx.expect_equal(y, expected, f"{op}(...) call {made} of the run ({time.monotonic() - start:.1f} s in)",
                             "the definition, as on the first call", equal_nan=True)
            del ctx.calls[:-1]  # one call to reproduce at a time: the executor keeps the history

    sustained.__doc__ = """A backend keeps its answers over a long-lived process (docs/explanation/isolation.md).

    A real program calls a convolution thousands of times from one process: state that goes
    wrong after a few hundred calls (a counter, a cache that fills, a pool that recycles
    buffers) or after tens of seconds (a timer, a background thread) never shows in short
    examples.  One example makes the profile's number of calls (the default profile: 320)
    over its number of seconds (21), new exact-mode data each time, every answer checked
    against the definition.
    """


def _like(ctx, args, kwargs):
    """New exact-mode arrays of the shapes of ``args`` (the example's generator), same keywords."""
    make = maker(ctx)
    return tuple(make(a.shape).astype(a.dtype) for a in args), kwargs
