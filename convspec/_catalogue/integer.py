"""Properties of integer data (docs/explanation/contract.md, integer data): the quantised layer
(``conv`` on int8/uint8 with zero points, exact int32 sums, as ONNX's ``ConvInteger``) and
max pooling of int8/uint8, exact and in the input's dtype.

They apply to the functions whose ``dtypes`` declaration names ``int8`` or ``uint8``; a
backend that declares none is skipped with that reason.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from convspec._contract import reference
from convspec._contract.functions import INTEGER_DTYPES
from convspec._catalogue.property import prop
from convspec._catalogue.drawing import expect_rejected, integer_conv_data, pool_data

INTEGER = (("dtype", INTEGER_DTYPES), "ndim")


def _expect_int32(ctx, y, what):
    ctx.expect(y.dtype == np.int32, f"{what}.dtype={y.dtype}, but should be int32 (the exact sums of an integer conv)")


@prop("conv_integer_definition", op="conv", concepts=("integer-data", "definition"), axes=INTEGER,
      statement="conv on int8/uint8 = the exact int32 sum of (x - x_zero_point)(w[o] - w_zero_point[o]); padding holds "
                "x_zero_point")
def conv_integer_definition(ctx):
    """An integer layer computes eq. 9.7 on the inputs less their zero points, exactly.

    ``x`` and ``w`` are int8 or uint8 (each its own dtype, as ONNX's ``ConvInteger`` allows);
    the zero points are drawn over the whole range, ``w_zero_point`` one per output channel
    unless the backend declares ``per_tensor_zero_points``.  Every product and sum is an
    integer, so the result (int32) must equal the reference's exactly.
    """
    x, w, kw = integer_conv_data(ctx)
    expected = reference.conv(x, w, **kw, acc=np.int64)
    ctx.nondegenerate(expected)
    y = ctx.call("conv", x, w, **kw)
    _expect_int32(ctx, y, "conv(x, w, ...)")
    ctx.expect_within(y, expected, 0, f"conv(x: {x.dtype}, w: {w.dtype}, x_zero_point={kw['x_zero_point']!r}, ...)",
                      "the exact sum of (x - x_zero_point)(w - w_zero_point)")


@prop("conv_integer_extremes", op="conv", concepts=("integer-data", "definition"), axes=INTEGER,
      statement="conv on int8/uint8 is exact at the extremes: every (x - x_zero_point)(w - w_zero_point) is 0 or "
                "+-255**2, sums beyond int16")
def conv_integer_extremes(ctx):
    """The largest products and sums an integer layer meets are exact.

    Every input, weight and zero point is its dtype's least or greatest value, so every
    shifted value is 0 or +-255 and every product 0 or +-65025: a subtraction done in 8 bits
    wraps, a product or sum kept in 16 bits overflows, and an int8 read as uint8 changes sign.
    """
    x, w, kw = integer_conv_data(ctx, kind="extremes")
    ix, iw = np.iinfo(x.dtype), np.iinfo(w.dtype)
    kw = {**kw, "x_zero_point": int(ix.max if ctx.draw(st.booleans(), label="x_zero_point_high") else ix.min)}
    if np.size(kw["w_zero_point"]) > 1:
        kw["w_zero_point"] = np.where(np.arange(w.shape[0]) % 2 == 0, iw.min, iw.max).astype(w.dtype)
    else:
        kw["w_zero_point"] = int(iw.max if ctx.draw(st.booleans(), label="w_zero_point_high") else iw.min)
    expected = reference.conv(x, w, **kw, acc=np.int64)
    y = ctx.call("conv", x, w, **kw)
    _expect_int32(ctx, y, "conv(x, w, ...)")
    ctx.expect_within(y, expected, 0, f"conv(x: {x.dtype} at its extremes, w: {w.dtype} at its extremes, "
                                      f"x_zero_point={kw['x_zero_point']!r}, w_zero_point={kw['w_zero_point']!r})",
                      "the exact sum (products of 255**2 in int32)")


@prop("conv_integer_padding_holds_zero_point", op="conv", concepts=("integer-data", "zero-padding"), axes=INTEGER,
      statement="conv(x, padding=p, x_zero_point=z) = conv(x padded with z, padding=0, x_zero_point=z) for "
                "int8/uint8")
def conv_integer_padding_holds_zero_point(ctx):
    """Padding of an integer layer is the zero point: it adds nothing to the shifted sum.

    Padding ``x`` with 0 before subtracting the zero point (a padded raw buffer) adds
    ``-x_zero_point * w`` at every padded tap; the layer must equal the same layer run on an
    input padded with ``x_zero_point`` explicitly.
    """
    x, w, kw = integer_conv_data(ctx)
    nd = x.ndim - 2
    if not any(a or b for a, b in kw["padding"]):
        kw = {**kw, "padding": ((1, 1),) * nd}  # more padding keeps the layer valid
    zx = kw["x_zero_point"] if kw["x_zero_point"] != 0 else int(np.iinfo(x.dtype).max)
    kw = {**kw, "x_zero_point": zx}
    padded = np.pad(x, ((0, 0), (0, 0)) + tuple(kw["padding"]), constant_values=zx)
    y = ctx.call("conv", x, w, **kw)
    unpadded = ctx.call("conv", padded, w, **{**kw, "padding": ((0, 0),) * nd})
    ctx.expect_within(y, unpadded, 0, f"conv(x, padding={kw['padding']}, x_zero_point={zx})",
                      f"conv of x padded with x_zero_point={zx} explicitly, without padding")


def _integer_pool(op):
    rule = "bin" if op.startswith("adaptive") else \
        "window, in x's dtype (padding never wins; padding only gives the dtype's least value)"
    @prop(f"{op}_integer_definition", op=op, concepts=("integer-data", "pooling-max"), axes=INTEGER,
          statement=f"{op} of int8/uint8 data is the exact max of each {rule}" + (", in x's dtype" if rule == "bin" else ""))
    def definition(ctx):
        args, kw = pool_data(ctx, op)
        expected = getattr(reference, op)(*args, **kw)
        y = ctx.call(op, *args, **kw)
        x = args[0]
        ctx.expect(y.dtype == x.dtype, f"{op}(x: {x.dtype}).dtype={y.dtype}, but should be {x.dtype} (the input's)")
        ctx.expect_within(y, expected, 0, f"{op}(x: {x.dtype}, {kw})", "the max of each window's input elements")

    definition.__doc__ = f"""{op} on int8/uint8 picks each window's largest input element, exactly.

    Integer data has no -inf: padding must still never win, so a window of int8 values all
    below 0 is not raised to a padding of 0, and a window of padding only (a dilated one:
    feature ``pool_dilation``) gives the dtype's least value.  The
    result keeps the input's dtype.
    """
    return definition


max_pool_integer_definition = _integer_pool("max_pool")
adaptive_max_pool_integer_definition = _integer_pool("adaptive_max_pool")


@prop("conv_integer_rejects_bad_zero_points", op="conv", concepts=("integer-data", "validation"), axes=INTEGER,
      only_if="validates_arguments",
      statement="conv raises for a zero point outside its dtype's range, of the wrong length, or not an integer")
def conv_integer_rejects_bad_zero_points(ctx):
    """Zero points are checked like every other argument (docs/howto/declare.md).

    An ``x_zero_point`` outside x's range cannot be stored in x's dtype (ONNX keeps it in
    that dtype); a ``w_zero_point`` array needs one entry per output channel; a fractional
    zero point is no integer.  Each must raise the declared error, naming the argument.
    """
    x, w, kw = integer_conv_data(ctx)
    info = np.iinfo(x.dtype)
    cases = {
        "x_zero_point above x's range": ("x_zero_point", {"x_zero_point": int(info.max) + 1}),
        "x_zero_point below x's range": ("x_zero_point", {"x_zero_point": int(info.min) - 1}),
        "fractional x_zero_point": ("x_zero_point", {"x_zero_point": 1.5}),
        "w_zero_point of the wrong length": ("w_zero_point", {"w_zero_point": np.zeros(w.shape[0] + 1, w.dtype)}),
    }
    name = ctx.draw(st.sampled_from(sorted(cases)), label="bad argument")
    argument, change = cases[name]
    expect_rejected(ctx, "conv", ctx.attempt("conv", x, w, **{**kw, **change}), name, argument)
