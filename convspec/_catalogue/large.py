"""The large-size stage: a few examples past the strategies' caps, per family of functions.

Bugs at tile and block boundaries, in 32-bit or narrower index arithmetic and in the
remainders of cache blocking show only on inputs larger than the ones the other properties
draw (at most 160 per axis, 16,000 elements).  Each property here runs a few examples
(the profile's ``large_examples``) of realistic sizes -- signals past 1,000 per axis and long
1-D signals, layers such as 64 channels of 56 x 56 -- on exact data, so a direct backend
is compared bit for bit with the reference over the whole output.

Sizes are drawn from the example's random generator rather than shrunk by hypothesis (the
smallest example of a large stage is not large), and every example covers each number of
spatial axes the backend supports.
"""

from __future__ import annotations

import numpy as np

from convspec._contract import reference
from convspec._contract.functions import SIGNAL_OPS, conv_output_shape
from convspec._catalogue.property import prop
from convspec._catalogue.strategies import ConvProblem, PoolProblem
from convspec._catalogue.drawing import for_each

#: Signal sizes: (least, most) length per axis, largest kernel length.
SIGNAL_SIZES = {1: ((1_000, 200_000), 65), 2: ((257, 1_100), 9), 3: ((40, 70), 5)}
#: Layers of realistic sizes, by number of spatial axes: (channels, spatial size, kernel).
LAYERS = {
    1: [(16, 16_000, 9), (8, 4_100, 31), (1, 50_000, 3)],
    2: [(64, (56, 56), 3), (3, (300, 300), 7), (16, (257, 130), 3), (128, (28, 28), 3)],
    3: [(8, (16, 28, 28), 3), (4, (9, 64, 64), 3)],
}
#: Layers for the gradients: past the caps, but a plain per-position loop over every tap
#: (a first implementation of eq. 9.13) still answers within the per-call limit.
GRAD_LAYERS = {
    1: [(16, 4_100, 9), (1, 50_000, 3)],
    2: [(16, (64, 64), 3), (32, (40, 40), 3)],
    3: [(4, (9, 32, 32), 3)],
}
LAYER = ("dtype",)


def large_conv_problem(rng, ndim, layers=LAYERS) -> ConvProblem:
    """A layer of realistic size: stride 1 or 2, dilation 1 or 2, padding about half the
    kernel (sometimes asymmetric), groups 1 or depthwise."""
    channels, size, k = layers[ndim][rng.integers(len(layers[ndim]))]
    size = (size,) if ndim == 1 else size
    stride = tuple(int(rng.integers(1, 3)) for _ in range(ndim))
    dilation = tuple(int(rng.integers(1, 3)) if k == 3 else 1 for _ in range(ndim))
    padding = tuple((int(rng.integers(0, k // 2 + 2)), int(rng.integers(0, k // 2 + 2))) for _ in range(ndim))
    groups = channels if channels > 1 and rng.random() < 0.5 else 1
    c_out = channels if groups > 1 else int(rng.choice([8, 16, 64 if ndim == 2 else 16]))
    spatial = tuple(max(s, d * (k - 1) + 1) for s, d in zip(size, dilation))
    return ConvProblem(x=(1, channels) + spatial, w=(c_out, channels // groups) + (k,) * ndim, stride=stride,
                       padding=padding, dilation=dilation, groups=groups)


def ndims(ctx):
    """Every number of spatial axes the backend declares for the property's function (each
    example covers them all)."""
    return ctx.backend.capabilities.ndims_for(ctx.prop.op)


def _exact_large(ctx, shape):
    """Exact-mode data at a large size (the power of two of the example, every value small)."""
    return ctx.exact(shape)


@for_each(*SIGNAL_OPS)
def _signal_large(op):
    @prop(f"{op}_large", op=op, concepts=("definition", "large-sizes"), axes=("dtype", "mode"), large=True,
          statement=f"{op}(x, w, mode) = the defining sum on signals past the size caps (1-D to 200,000, 2-D past 1,000 "
                    "per axis), exactly on exact data")
    def large(ctx):
        mode = ctx.axis("mode")
        for ndim in ndims(ctx):
            (least, most), kmax = SIGNAL_SIZES[ndim]
            x_shape = tuple(int(v) for v in ctx.rng.integers(least, most + 1, size=ndim))
            w_shape = tuple(int(v) for v in ctx.rng.integers(1, kmax + 1, size=ndim))
            x, w = _exact_large(ctx, x_shape), _exact_large(ctx, w_shape)
            expected = getattr(reference, op)(x, w, mode=mode)
            ctx.nondegenerate(expected)
            y = ctx.call(op, x, w, mode=mode)
            ctx.expect_equal(y, expected, f"{op}(x of shape {x_shape}, w of shape {w_shape}, {mode!r})", "the defining sum")

    large.__doc__ = f"""{op} agrees with its defining sum past the other properties' size caps.

    Long 1-D signals (to 200,000) and 2-D images past 1,000 per axis, where block and tile
    remainders and narrow index arithmetic fail.  Exact on exact data.
    """


@prop("conv_large", op="conv", concepts=("definition", "multichannel", "large-sizes"), axes=LAYER, large=True,
      statement="conv agrees with eq. 9.7/9.8 on layers of realistic size (64 channels of 56 x 56, 16,000-long audio, "
                "16 x 28 x 28 volumes), exactly on exact data")
def conv_large(ctx):
    """A convolutional layer of realistic size agrees with its defining sum.

    Stride, dilation, padding and depthwise groups at sizes where tiling and blocking
    remainders show.  Exact on exact data.
    """
    for ndim in ndims(ctx):
        p = large_conv_problem(ctx.rng, ndim)
        x, w = _exact_large(ctx, p.x), _exact_large(ctx, p.w)
        expected = reference.conv(x, w, **p.kwargs)
        ctx.nondegenerate(expected)
        y = ctx.call("conv", x, w, **p.kwargs)
        ctx.expect_equal(y, expected, f"conv(x, w, ...) on {p}", "the defining sum, eq. 9.7/9.8")


@for_each("conv_grad_input", "conv_grad_weight")
def _gradient_large(op):
    @prop(f"{op}_large", op=op, concepts=("gradient-input" if op == "conv_grad_input" else "gradient-kernel", "large-sizes"),
          axes=LAYER, large=True,
          statement=f"{op} agrees with its defining sum on layers of realistic size, exactly on exact data")
    def large(ctx):
        for ndim in ndims(ctx):
            p = large_conv_problem(ctx.rng, ndim, GRAD_LAYERS)
            x, w = _exact_large(ctx, p.x), _exact_large(ctx, p.w)
            gy = _exact_large(ctx, conv_output_shape(p.x, p.w, **p.kwargs))
            if op == "conv_grad_input":
                args, kwargs = (gy, w), {"input_shape": p.x, **p.kwargs}
            else:
                args, kwargs = (gy, x), {"weight_shape": p.w, **p.kwargs}
            expected = getattr(reference, op)(*args, **kwargs)
            ctx.nondegenerate(expected)
            y = ctx.call(op, *args, **kwargs)
            ctx.expect_equal(y, expected, f"{op}(...) on {p}", "the defining sum")

    large.__doc__ = f"""{op} agrees with its defining sum on layers of realistic size.  Exact on exact data."""


@for_each("max_pool", "avg_pool")
def _pool_large(op):
    @prop(f"{op}_large", op=op, concepts=("pooling-max" if op == "max_pool" else "pooling-avg", "large-sizes"),
          axes=LAYER, large=True,
          statement=f"{op} agrees with its definition on feature maps of realistic size (64 channels of 112 x 112, "
                    "long 1-D maps)")
    def large(ctx):
        rng = ctx.rng
        for ndim in ndims(ctx):
            size = {1: (20_000 + int(rng.integers(0, 300)),), 2: (112, 112 + int(rng.integers(0, 200))),
                    3: (16, 56, 56 + int(rng.integers(0, 20)))}[ndim]
            channels = {1: 8, 2: 64, 3: 8}[ndim]
            k, s = int(rng.integers(2, 4)), int(rng.integers(1, 3))
            problem = PoolProblem(x=(1, channels) + size, window=(k,) * ndim, stride=(s,) * ndim,
                                  padding=((k // 2, k // 2),) * ndim, ceil_mode=bool(rng.random() < 0.5))
            x = _exact_large(ctx, problem.x)
            kwargs = problem.kwargs
            if op == "avg_pool":
                kwargs = {**kwargs, "count_padding": bool(rng.random() < 0.5)}
            expected = getattr(reference, op)(x, acc=np.longdouble, **kwargs)
            ctx.nondegenerate(expected)
            y = ctx.call(op, x, **kwargs)
            ctx.expect_within(y, expected, ctx.tolerance(), f"{op}(x of shape {x.shape}, ...)", "the summary of each window")

    large.__doc__ = f"""{op} agrees with its definition on feature maps of realistic size."""
