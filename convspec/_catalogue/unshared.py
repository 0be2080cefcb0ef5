"""Properties of locally connected layers (eq. 9.9), tiled convolution (eq. 9.10) and biases."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from convspec._contract import reference
from convspec._contract.functions import conv_output_shape
from convspec._catalogue.property import prop
from convspec._catalogue.strategies import unshared_problems
from convspec._catalogue.drawing import conv_data, for_each, grad_data, unshared_data

LAYER = ("dtype", "ndim")
EQUATION = {"local_conv": "eq. 9.9", "tiled_conv": "eq. 9.10"}
CONCEPT = {"local_conv": "locally-connected", "tiled_conv": "tiled"}


@for_each(*EQUATION)
def _definition(op):
    @prop(f"{op}_definition", op=op, concepts=(CONCEPT[op], "definition"), axes=LAYER,
          statement=f"{op} equals the sum of {EQUATION[op]}, exactly on exact data")
    def definition(ctx):
        args, kwargs = unshared_data(ctx, op)
        expected = getattr(reference, op)(*args, **kwargs)
        ctx.nondegenerate(expected)
        y = ctx.call(op, *args, **kwargs)
        ctx.expect_equal(y, expected, f"{op}(x, w, ...)", f"the defining sum, {EQUATION[op]}")

    definition.__doc__ = f"""{op} agrees with {EQUATION[op]} (with stride and zero padding).

    ``local_conv``: ``w[o, i, c, j]`` is the weight of output channel ``o`` at location ``i``.
    ``tiled_conv``: ``w[o, c, j, t]``, output location ``i`` using ``t = i mod T``.  Exact.
    """


@prop("local_conv_tied_is_conv", op="local_conv", concepts=("locally-connected",), axes=LAYER, uses=("conv",),
      statement="local_conv with every location's weights equal to one kernel is conv (parameter sharing, section 9.2)")
def local_conv_tied_is_conv(ctx):
    """Tying the weights of every location of a locally connected layer gives convolution.

    Exact.
    """
    x, w, kw = conv_data(ctx, max_groups=1, max_dilation=1, max_elements=4000)
    out = conv_output_shape(x.shape, w.shape, **kw)
    nd = x.ndim - 2
    local = np.broadcast_to(w.reshape((w.shape[0],) + (1,) * nd + w.shape[1:]), (w.shape[0],) + out[2:] + w.shape[1:]).copy()
    y = ctx.other("conv", x, w, **kw)
    ctx.nondegenerate(y)
    z = ctx.call("local_conv", x, local, stride=kw["stride"], padding=kw["padding"])
    ctx.expect_equal(z, y, "local_conv(x, the kernel at every location)", "conv(x, kernel)")


@prop("tiled_conv_one_tile_is_conv", op="tiled_conv", concepts=("tiled",), axes=LAYER, uses=("conv",),
      statement="tiled_conv with T = 1 is conv")
def tiled_conv_one_tile_is_conv(ctx):
    """Tiled convolution with a single tile is ordinary convolution (eq. 9.10, t = 1).  Exact."""
    x, w, kw = conv_data(ctx, max_groups=1, max_dilation=1, max_elements=4000)
    y = ctx.other("conv", x, w, **kw)
    ctx.nondegenerate(y)
    z = ctx.call("tiled_conv", x, w.reshape(w.shape + (1,) * (x.ndim - 2)).copy(), stride=kw["stride"], padding=kw["padding"])
    ctx.expect_equal(z, y, "tiled_conv(x, w, T=1)", "conv(x, w)")


@prop("tiled_conv_full_tiling_is_local", op="tiled_conv", concepts=("tiled", "locally-connected"), axes=LAYER,
      uses=("local_conv",),
      statement="tiled_conv with T = the output size is local_conv with w_local[o, i, c, j] = w_tiled[o, c, j, i]")
def tiled_conv_full_tiling_is_local(ctx):
    """With as many tiles as output locations, tiled convolution is a locally connected layer
    (eq. 9.10, t = output size).  Exact.
    """
    probe = ctx.draw(unshared_problems(ctx.axis("ndim"), tiled=False), label="problem")
    nd = ctx.axis("ndim")
    out = probe.w[1:1 + nd]
    x = ctx.exact(probe.x)
    tiled = ctx.exact((probe.w[0], probe.x[1]) + probe.w[2 + nd:] + out)
    local = np.moveaxis(tiled, tuple(range(2 + nd, 2 + 2 * nd)), tuple(range(1, 1 + nd))).copy()
    y = ctx.call("tiled_conv", x, tiled, **probe.kwargs)
    ctx.nondegenerate(y)
    z = ctx.other("local_conv", x, local, **probe.kwargs)
    ctx.expect_equal(y, z, "tiled_conv(x, w, T=O)", "local_conv(x, w moved to the location axes)")


@prop("tiled_conv_modulo", op="tiled_conv", concepts=("tiled",), axes=LAYER,
      statement="tiled_conv output i equals conv with kernel number i mod T at i (each tile checked on its own outputs)")
def tiled_conv_modulo(ctx):
    """Each output location uses kernel ``i mod T`` (eq. 9.10): outputs of tile ``t`` equal a
    convolution with kernel ``t``, sampled at those outputs.  Exact.
    """
    (x, w), kw = unshared_data(ctx, "tiled_conv")
    nd = x.ndim - 2
    tiles = w.shape[2 + nd:]
    y = ctx.call("tiled_conv", x, w, **kw)
    ctx.nondegenerate(y)
    t = ctx.draw(st.tuples(*(st.integers(0, n - 1) for n in tiles)), label="tile")
    kernel = np.ascontiguousarray(w[(Ellipsis,) + t])
    full = reference.conv(x, kernel, stride=kw["stride"], padding=kw["padding"], dilation=(1,) * nd, groups=1)
    pick = (slice(None), slice(None)) + tuple(slice(tt, None, n) for tt, n in zip(t, tiles))
    ctx.expect_equal(y[pick], full[pick], f"tiled_conv(x, w) at the outputs of tile {t}", f"conv with kernel {t} there")


@prop("conv_shared_bias", op="conv", concepts=("bias",), axes=LAYER, only_if="biases",
      statement="conv(x, w, bias=b) = conv(x, w) + b[o] (one bias per output channel) and + b[o, i] (untied, per location)")
def conv_shared_bias(ctx):
    """Biases (section 9.5): shared per channel, or untied with one per location.

    Exact.
    """
    x, w, kw = conv_data(ctx)
    y = ctx.call("conv", x, w, **kw)
    untied = ctx.draw(st.booleans(), label="untied")
    b = ctx.exact(y.shape[1:] if untied else y.shape[1:2])
    ctx.nondegenerate(b)
    z = ctx.call("conv", x, w, bias=b, **kw)
    expected = y.astype(np.float64) + b.reshape(b.shape + (1,) * (y.ndim - 1 - b.ndim))
    ctx.expect_equal(z, expected, f"conv(x, w, bias of shape {b.shape})", "conv(x, w) + bias")


@prop("conv_grad_input_bias", op="conv_grad_input", concepts=("bias", "gradient-input"), axes=LAYER,
      features=("grad_input_bias",),
      statement="conv_grad_input(gy, w, bias=b) = conv_grad_input(gy, w) + b[c] (one bias per input channel: the "
                "transposed convolution's bias)")
def conv_grad_input_bias(ctx):
    """A transposed-convolution layer adds one bias per channel of its output (the forward
    layer's input channels), as ONNX's ``ConvTranspose`` does with ``B`` (feature
    ``grad_input_bias``).  Exact.
    """
    (gy, w), kw = grad_data(ctx, "conv_grad_input")
    y = ctx.call("conv_grad_input", gy, w, **kw)
    b = ctx.exact(y.shape[1:2])
    ctx.nondegenerate(b)
    z = ctx.call("conv_grad_input", gy, w, bias=b, **kw)
    expected = y.astype(np.float64) + b.reshape(b.shape + (1,) * (y.ndim - 2))
    ctx.expect_equal(z, expected, f"conv_grad_input(gy, w, bias of shape {b.shape})", "conv_grad_input(gy, w) + bias")


@prop("untied_bias_corrects_padding", op="conv", concepts=("bias", "zero-padding"), axes=LAYER, only_if="biases",
      statement="on a constant input, an untied bias equal to the missing edge contributions makes a zero-padded conv constant")
def untied_bias_corrects_padding(ctx):
    """A per-location bias can correct the smaller input received at zero-padded edges (section 9.5).

    For constant ``x = c`` the outputs near the border lose the taps that fell on padding;
    the bias ``b[o, i] = c * sum(w[o]) - conv(c)[o, i]`` restores them, so the result is
    ``c * sum(w[o])`` everywhere.  Exact.
    """
    _, w, kw = conv_data(ctx, max_groups=1)
    c = ctx.draw(st.sampled_from([1.0, 2.0, -1.0]), label="c")
    x = np.full((1, w.shape[1]) + tuple(ctx.draw(st.integers(1, 12), label=f"S[{i}]") + w.shape[2 + i] * kw["dilation"][i]
                                        for i in range(w.ndim - 2)), c, dtype=w.dtype)
    plain = ctx.call("conv", x, w, **kw)
    full = c * w.astype(np.float64).reshape(w.shape[0], -1).sum(1)
    bias = (full.reshape((-1,) + (1,) * (plain.ndim - 2)) - plain[0].astype(np.float64)).astype(w.dtype)
    ctx.nondegenerate(full)
    z = ctx.call("conv", x, w, bias=bias, **kw)
    ctx.expect_equal(z[0], np.broadcast_to(full.reshape((-1,) + (1,) * (plain.ndim - 2)), z.shape[1:]),
                     "conv(c, w, bias=the missing edge contributions)", "c * sum(w) everywhere")


@prop("tiled_conv_bias", op="tiled_conv", concepts=("bias", "tiled"), axes=LAYER, only_if="biases",
      statement="tiled_conv(x, w, bias=b) = tiled_conv(x, w) + b[o, i mod T]: the bias is tiled like the kernels")
def tiled_conv_bias(ctx):
    """Tiled biases follow the kernels' tiling pattern (section 9.5).  Exact."""
    (x, w), kw = unshared_data(ctx, "tiled_conv")
    nd = x.ndim - 2
    tiles = w.shape[2 + nd:]
    y = ctx.call("tiled_conv", x, w, **kw)
    b = ctx.exact((w.shape[0],) + tiles)
    ctx.nondegenerate(b)
    z = ctx.call("tiled_conv", x, w, bias=b, **kw)
    index = np.ix_(*(np.arange(o) % t for o, t in zip(y.shape[2:], tiles)))
    ctx.expect_equal(z, y.astype(np.float64) + b[(slice(None),) + index], "tiled_conv(x, w, bias=b)", "tiled_conv(x, w) + b[o, i mod T]")


@prop("local_conv_bias", op="local_conv", concepts=("bias", "locally-connected"), axes=LAYER, only_if="biases",
      statement="local_conv(x, w, bias=b) = local_conv(x, w) + b[o, i]: one bias per output location")
def local_conv_bias(ctx):
    """Untied biases of a locally connected layer: one per channel and location.  Exact."""
    (x, w), kw = unshared_data(ctx, "local_conv")
    y = ctx.call("local_conv", x, w, **kw)
    b = ctx.exact(y.shape[1:])
    ctx.nondegenerate(b)
    z = ctx.call("local_conv", x, w, bias=b, **kw)
    ctx.expect_equal(z, y.astype(np.float64) + b, "local_conv(x, w, bias=b)", "local_conv(x, w) + b")
