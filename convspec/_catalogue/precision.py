"""Properties of low precision (docs/explanation/accuracy.md, low precision): float16 and bfloat16
layers, signals and pools, held to the bound of the arithmetic the backend declares
(``accumulate``: float32 sums by default, or ``"storage"``), and bit for bit on exact data
sized for the dtype's significand.  float32 layers computed with TF32 products are held to
their own bound by the ordinary accuracy properties (``products: "tf32"``).

They apply to the functions whose ``dtypes`` declaration names ``float16`` or ``bfloat16``.
"""

from __future__ import annotations

import numpy as np

from convspec._contract import accuracy, reference
from convspec._contract.functions import LOW_PRECISION_DTYPES
from convspec._catalogue.property import prop
from convspec._catalogue.drawing import call_data, for_each, pool_data

LOW = (("dtype", LOW_PRECISION_DTYPES), "ndim")
KERNEL_OPS = ("correlate", "convolve", "conv", "conv_grad_input", "conv_grad_weight")
#: The kernel functions of the layer level (conv and its gradients): no mode axis.
LAYER_KERNEL_OPS = KERNEL_OPS[2:]


def exact_terms(dtype) -> int:
    """How many products of +-1 (times one power of two) an exact-mode output may sum: every
    partial sum an integer below ``2**p`` (11 significant bits for float16, 8 for bfloat16), so
    float32 sums are exact and so is the one rounding to the dtype."""
    return 2 ** (accuracy.finfo(dtype).nmant + 1)


def _signs(ctx, shape):
    """Exact low-precision data: -1, 0 or 1 times the example's power of two (2**-3 .. 1, so
    that 2**11 products of them stay below float16's largest value)."""
    rng = ctx.rng
    scale = 2.0 ** int(rng.integers(-3, 1))
    return (rng.integers(-1, 2, size=shape) * scale).astype(ctx.dtype)


def _at_most(a, b, op, limit):
    """Zero entries so that no output of ``op`` sums more than ``limit`` nonzero products
    (in place): per output channel of the kernel (conv, signals), per input channel of the
    kernel (conv_grad_input), per output channel of the output gradient (conv_grad_weight)."""
    if op == "conv_grad_weight":
        rows = np.moveaxis(a, 1, 0).reshape(a.shape[1], -1)  # gy: (C_out, N * O)
        rows[:, limit:] = 0
        a[...] = np.moveaxis(rows.reshape((a.shape[1], a.shape[0]) + a.shape[2:]), 0, 1)
    elif op == "conv_grad_input":
        rows = np.moveaxis(b, 1, 0).reshape(b.shape[1], -1)  # w: (C_in / groups, C_out * K)
        rows[:, limit:] = 0
        b[...] = np.moveaxis(rows.reshape((b.shape[1], b.shape[0]) + b.shape[2:]), 0, 1)
    else:
        rows = b.reshape(b.shape[0], -1) if op == "conv" else b.reshape(1, -1)
        rows[:, limit:] = 0


def _axes(op):
    return LOW + (("mode",) if op not in LAYER_KERNEL_OPS else ())


@for_each(*KERNEL_OPS)
def _exact(op):
    @prop(f"{op}_low_precision_exact", op=op, concepts=("definition", "dtype-preservation"), axes=_axes(op),
          statement=f"{op} on float16/bfloat16 equals the defining sum exactly, in the input dtype, on data of "
                    "+-1 sized for the dtype's significand")
    def exact(ctx):
        (x, w), kw = call_data(ctx, op, make=lambda shape: _signs(ctx, shape))
        _at_most(x, w, op, exact_terms(x.dtype))  # every partial sum stays exact
        limit = exact_terms(x.dtype)
        expected = getattr(reference, op)(x, w, acc=np.longdouble, **kw)
        ctx.nondegenerate(expected)
        y = ctx.call(op, x, w, **kw)
        ctx.expect(y.dtype == x.dtype, f"{op}(x: {x.dtype}).dtype={y.dtype}, but should be {x.dtype} (the input's)")
        ctx.expect_within(y, expected, 0.0, f"{op}(x: {x.dtype}, ...)", "the defining sum, exact: every partial sum is an "
                          f"integer multiple of the data's scale below 2**{int(np.log2(limit))}")

    exact.__doc__ = f"""{op} on float16 and bfloat16 is bit-exact where the arithmetic allows.

    The data is -1, 0 or 1 times one power of two, at most ``2**p`` nonzero taps per output
    (``p`` = 11 for float16, 8 for bfloat16): every partial sum is exact in float32 and in the
    input dtype, and so is the result, whatever the order of summation or the accumulator.
    The result keeps the input dtype.
    """
    return exact


@for_each(*KERNEL_OPS)
def _accuracy(op):
    @prop(f"{op}_low_precision_accuracy", op=op, concepts=("definition", "accuracy"), axes=_axes(op),
          statement=f"|{op}(x, w) - exact| <= u_out |y| + gamma_n(u_acc) (|x| * |w|) on float16/bfloat16, u_acc the "
                    "declared accumulator's (float32 unless accumulate='storage')")
    def accuracy_(ctx):
        rng = ctx.rng
        scale = 2.0 ** int(rng.integers(-4, 5))
        (x, w), kw = call_data(ctx, op, make=lambda shape: (rng.standard_normal(shape) * scale).astype(ctx.dtype))
        top = float(np.max(getattr(reference, op)(np.abs(x), np.abs(w), acc=np.longdouble, **kw), initial=0))
        room = float(accuracy.finfo(x.dtype).max) / 4
        if top > room:  # no sum may reach the dtype's overflow: scale x down by a power of two (exact)
            x = (x.astype(np.float32) * 2.0 ** -int(np.ceil(np.log2(top / room)))).astype(x.dtype)
        exact = getattr(reference, op)(x, w, acc=np.longdouble, **kw)
        y = ctx.call(op, x, w, **kw)
        caps = ctx.backend.capabilities
        cls = caps.accuracy_for(op, (x, w), kw)
        bound = accuracy.error_bound(cls, op, (x, w), kw, x.dtype, caps.arithmetic_for(op))
        ctx.expect(y.dtype == x.dtype, f"{op}(x: {x.dtype}).dtype={y.dtype}, but should be {x.dtype} (the input's)")
        ctx.expect_accurate(y, exact, bound, op, (x, w), kw, f"{op}(x: {x.dtype}, ...)",
                            f"the exact result within the bound of {x.dtype} inputs summed in "
                            f"{'the input dtype' if caps.accumulate == 'storage' else 'float32'} ({cls})")

    accuracy_.__doc__ = f"""{op} on float16 and bfloat16 is as accurate as its declared arithmetic allows.

    Inputs of a low-precision dtype have products exact in float32; summed there (the
    default), ``n`` of them are within ``gamma_n(2**-24)`` of their magnitude, and the one
    rounding to the input dtype adds ``u_out |y|``.  A kernel that sums in float16 or rounds
    partial sums to bfloat16 misses that bound by orders of magnitude unless it declares
    ``accumulate: "storage"`` (then ``gamma_(n+1)(u)`` of the dtype).  Values are normal, at
    a power of two drawn per example.
    """
    return accuracy_


@for_each("max_pool", "adaptive_max_pool")
def _max_exact(op):
    @prop(f"{op}_low_precision_exact", op=op, concepts=("pooling-max", "dtype-preservation"), axes=LOW,
          statement=f"{op} on float16/bfloat16 is the exact max of each window, in the input dtype")
    def exact(ctx):
        (x,), kw = pool_data(ctx, op, real=True)
        expected = getattr(reference, op)(x, **kw)
        y = ctx.call(op, x, **kw)
        ctx.expect(y.dtype == x.dtype, f"{op}(x: {x.dtype}).dtype={y.dtype}, but should be {x.dtype} (the input's)")
        ctx.expect_within(y, expected, 0.0, f"{op}(x: {x.dtype}, ...)", "the max of each window")

    exact.__doc__ = """A max is a choice: exact in every dtype, and the result keeps the input's."""
    return exact


SUMMARY = {"avg_pool": "mean(|x|)", "lp_pool": "lp_pool(|x|)", "adaptive_avg_pool": "mean(|x|) over the bin"}


@for_each(*SUMMARY)
def _pool_accuracy(op):
    @prop(f"{op}_low_precision_accuracy", op=op, concepts=("pooling-avg" if "avg" in op else "pooling-lp", "accuracy"),
          axes=LOW, statement=f"|{op}(x) - exact| <= u_out |y| + gamma_(n+3)(u_acc) {SUMMARY[op]} on float16/bfloat16")
    def accuracy_(ctx):
        (x,), kw = pool_data(ctx, op, real=True)
        x = (ctx.rng.standard_normal(x.shape) * 2.0 ** int(ctx.rng.integers(-4, 5))).astype(ctx.dtype)
        caps = ctx.backend.capabilities
        exact = getattr(reference, op)(x, acc=np.longdouble, **kw)
        y = ctx.call(op, x, **kw)
        bound = accuracy.pool_bound(op, (x,), kw, x.dtype, caps.accuracy_for(op, (x,), kw), caps.arithmetic_for(op))
        ctx.expect(y.dtype == x.dtype, f"{op}(x: {x.dtype}).dtype={y.dtype}, but should be {x.dtype} (the input's)")
        ctx.expect_accurate(y, exact, bound, op, (x,), kw, f"{op}(x: {x.dtype}, ...)", "the exact result within its bound",
                            equal_nan=True)

    accuracy_.__doc__ = f"""{op} of a low-precision window is summed in the declared accumulator
    and rounded once to the input dtype (docs/explanation/accuracy.md)."""
    return accuracy_

