"""IEEE special values: a NaN or an infinity reaches exactly the outputs whose window holds it.

The book's *sparse interactions* (section 9.2) stated for NaN and +-inf: an output is a sum
(or a summary) over its window, so it is NaN, +inf or -inf exactly where IEEE arithmetic on
the defining sum makes it so -- ``NaN * 0 = NaN``, ``inf * 0 = NaN``, ``inf - inf = NaN``,
``inf * w = +-inf`` -- and every other output is the finite value it was.  Which of the four
classes (finite, NaN, +inf, -inf) a sum falls in does not depend on the summation order, so
this holds for every correct direct backend.

The contract, per accuracy class (docs/explanation/special-values.md):

* ``direct`` -- the class of every output is the definition's;
* ``fft`` and ``normwise`` (transforms, Winograd tiles, running sums) -- every output the
  definition makes non-finite is non-finite (NaN may stand for an infinity), and every
  output that is finite is within the error bound; an output may be NaN where the
  definition's is finite (a transform spreads a NaN through its slice);
* undeclared -- as ``fft`` for the linear functions (their algorithm may be a transform), as
  ``direct`` for pooling (a pool that spreads NaN beyond a window must say so by declaring
  ``normwise``).

The special values are placed in the data argument (``x``; ``gy`` of ``conv_grad_input``, ``x``
of ``conv_grad_weight``): every term holding them is a true product of the definition.  In a
kernel they are placed only where no tap meets padding (``conv`` without padding, ``valid``
signals).  A special value times a *structural* zero -- a padding zero, a zero between the
taps of a dilated kernel -- is implementation-defined: an output it alone reaches may be
either class.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from convspec._contract import accuracy, reference
from convspec._contract.functions import OPS, SIGNAL_OPS, arg_names
from convspec._catalogue.property import fmt, prop
from convspec._catalogue.drawing import call_data, conv_problem, for_each

CLASS_NAMES = ("finite", "NaN", "+inf", "-inf")
SPECIALS = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf}
#: Which argument holds the special values (see the module docstring).
TARGET = {"conv_grad_weight": 1}
STRICT_POOLS = ("max_pool", "adaptive_max_pool", "max_unpool")
POOLS = ("max_pool", "avg_pool", "lp_pool", "adaptive_max_pool", "adaptive_avg_pool", "max_unpool")


def classes(a) -> np.ndarray:
    """0 finite, 1 NaN, 2 +inf, 3 -inf, elementwise."""
    a = np.asarray(a)
    out = np.zeros(a.shape, dtype=np.int8)
    out[np.isnan(a)] = 1
    out[a == np.inf] = 2
    out[a == -np.inf] = 3
    return out


def _axes(op):
    return ("dtype", "ndim", "mode") if op in SIGNAL_OPS else ("dtype", "ndim")


def _data(ctx, op):
    """Arguments with special values placed, the keywords, and which argument holds them."""
    in_kernel = op in ("conv", *SIGNAL_OPS) and ctx.draw(st.booleans(), label="in kernel")
    if in_kernel and op == "conv":
        p = conv_problem(ctx, unit=True)
        args, kwargs = (ctx.real(p.x), ctx.real(p.w)), p.kwargs
    elif in_kernel:
        ctx.fix_axes(mode="valid")
        args, kwargs = call_data(ctx, op, real=True)
    else:
        args, kwargs = call_data(ctx, op, real=True)
    target = 1 if in_kernel else TARGET.get(op, 0)
    args = [np.array(a, copy=True) for a in args]
    held = args[target]
    count = ctx.draw(st.integers(1, 3), label="count")
    for i in range(count):
        at = ctx.draw(st.tuples(*(st.integers(0, s - 1) for s in held.shape)), label=f"at[{i}]")
        held[at] = SPECIALS[ctx.draw(st.sampled_from(sorted(SPECIALS)), label=f"value[{i}]")]
    return tuple(args), kwargs, target


def _with_holes(op, args, kwargs):
    """``conv`` with a dilated kernel computed as a dense kernel holding zeros between the taps
    (``None`` where there is no dilation)."""
    if op != "conv" or all(d == 1 for d in kwargs["dilation"]):
        return None
    x, w = args
    dense = np.zeros(w.shape[:2] + tuple(d * (k - 1) + 1 for d, k in zip(kwargs["dilation"], w.shape[2:])), dtype=w.dtype)
    dense[(slice(None), slice(None)) + tuple(slice(None, None, d) for d in kwargs["dilation"])] = w
    return reference.conv(x, dense, acc=np.longdouble, **{**kwargs, "dilation": (1,) * (x.ndim - 2)})


@for_each(*OPS)
def _special_values(op):
    @prop(f"{op}_special_values", op=op, concepts=("sparse-interactions", "special-values"), axes=_axes(op),
          statement=f"a NaN or +-inf in {op}'s data reaches exactly the outputs whose window holds it, as IEEE "
                    "arithmetic on the defining sum gives; fft-class backends may spread NaN further")
    def special_values(ctx):
        args, kwargs, target = _data(ctx, op)
        with np.errstate(invalid="ignore", over="ignore"):
            expected = getattr(reference, op)(*args, acc=np.longdouble, **kwargs)
            # the same sum with the kernel's dilation holes as explicit zero taps: a structural
            # zero times NaN is implementation-defined, like a padding zero
            holed = _with_holes(op, args, kwargs)
        y = ctx.call(op, *args, **kwargs)
        want, got = classes(expected), classes(y)
        if holed is not None:
            want = np.where(classes(holed) == got, got, want)
        name = arg_names(op)[target]
        cls = ctx.backend.capabilities.accuracy_for(op, args, kwargs)
        strict = cls == "direct" or op in STRICT_POOLS or (cls == "undeclared" and op in POOLS)
        bad = (want != got) if strict else ((want != 0) & (got == 0))
        if np.any(bad):
            i = tuple(int(v) for v in np.argwhere(bad)[0])
            ctx.expect(False, f"{op}(...)[{', '.join(map(str, i))}] is {CLASS_NAMES[got[i]]} ({fmt(y[i])}), but should be "
                              f"{CLASS_NAMES[want[i]]}: the IEEE value of the defining sum with the special values placed "
                              f"in {name}; {int(bad.sum())} of {bad.size} outputs differ in class"
                              + ("" if strict else f" (the {cls} class may only turn finite outputs into NaN)"))
        both = (want == 0) & (got == 0)
        clean = [np.where(np.isfinite(a), a, 0) for a in args]
        bound = accuracy.error_bound(cls, op, clean, kwargs, args[0].dtype, ctx.backend.capabilities.arithmetic_for(op))
        bound = np.broadcast_to(bound, y.shape) if np.ndim(bound) else np.full(y.shape, bound)
        ctx.expect_within(np.where(both, y, 0), np.where(both, expected, 0), np.where(both, bound, 0), f"{op}(...)",
                          "the definition, at the outputs no special value reaches", bound_name="bound")

    special_values.__doc__ = f"""A NaN or infinity in the data of {op} reaches exactly the outputs whose
    window holds it (section 9.2's sparse interactions, for IEEE special values).

    Direct backends: every output has the definition's class (finite, NaN, +inf, -inf);
    ``fft``-class and undeclared backends may turn finite outputs into NaN, never a
    non-finite one into a finite value.  Outputs no special value reaches are compared within
    the error bound.  See the module docstring for where the values are placed.
    """
