"""Properties of the quantised conv (feature ``qlinear``; docs/explanation/contract.md, quantised
conv): ONNX's ``QLinearConv`` as deployed int8 models run it -- integer sums, an int32 bias,
requantisation by ``x_scale * w_scale[o] / y_scale``, rounding and saturation to int8/uint8.

They apply to backends whose ``conv`` declares int8 or uint8 and the feature ``qlinear``.
How the requantisation rounds is the declaration ``requantize``: an ``"exact"`` backend must
give the exact answer, a ``"fixed_point"`` or ``"float32"`` one may differ from it by one
output unit (docs/explanation/accuracy.md derives both).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from convspec._contract import reference
from convspec._contract.functions import INTEGER_DTYPES, REQUANTIZE_TOLERANCE, output_dtype
from convspec._catalogue.drawing import conv_problem, expect_rejected, integer_conv_data
from convspec._catalogue.property import prop

QUANTIZED = (("dtype", INTEGER_DTYPES), "ndim")
ADDED = "0.3.0"


def _integer_dtypes(ctx):
    return [d for d in ctx.backend.capabilities.dtypes_for("conv") if d in INTEGER_DTYPES]


def _y_zero_point(ctx, value=None):
    """``y_zero_point`` as ONNX holds it, a 0-d array of the result's dtype (drawn among the
    integer dtypes ``conv`` declares; x's where ``qlinear_deployed_dtypes`` is declared), drawn
    over its range unless given (``"min"``, ``"max"`` or ``"centre"``)."""
    restricted = "qlinear_deployed_dtypes" in ctx.backend.capabilities.restrictions_for("conv")
    dtype = ctx.dtype if restricted else np.dtype(ctx.draw(st.sampled_from(_integer_dtypes(ctx)), label="y_dtype"))
    info = np.iinfo(dtype)
    if value is None:
        value = ctx.draw(st.one_of(st.just(0), st.integers(int(info.min), int(info.max))), label="y_zero_point")
    elif value in ("min", "max"):
        value = int(getattr(info, value))
    elif value == "centre":
        value = (int(info.min) + int(info.max) + 1) // 2
    return np.array(value, dtype=dtype)


def _sums(x, w, kw):
    """The exact integer sums (int64), without bias: what the scales then requantise."""
    return reference.conv(x, w, stride=kw["stride"], padding=kw["padding"], dilation=kw["dilation"],
                          groups=kw["groups"], x_zero_point=kw["x_zero_point"], w_zero_point=kw["w_zero_point"],
                          acc=np.int64)


def _spread(acc, o=None) -> float:
    """The largest |sum| (of output channel ``o``), at least 1."""
    part = acc if o is None else acc[:, o]
    return float(max(1, np.max(np.abs(part), initial=0)))


def _log_uniform(ctx, low, high, label, size=None):
    """float32 values ``10 ** u`` for ``u`` uniform in ``[low, high]`` (``size``: an array)."""
    u = ctx.draw(st.lists(st.floats(low, high), min_size=size or 1, max_size=size or 1), label=label)
    a = (10.0 ** np.asarray(u)).astype(np.float32)
    return a if size else float(a[0])  # a float32 value, as a Python float (as a user would pass it)


def _bias(ctx, w, acc):
    """``None`` or ``(C_out,)`` int32 drawn about the size of the sums."""
    if not ctx.draw(st.booleans(), label="bias"):
        return None
    spread = int(_spread(acc))
    return ctx.rng.integers(-spread, spread + 1, size=w.shape[0]).astype(np.int32)


def qlinear_data(ctx, *, target=None, **limits):
    """``(x, w, kwargs)`` of a quantised ``conv``: integer data and zero points as the integer
    conv draws them, an int32 bias or none, ``x_scale`` over six decades, ``w_scale`` one or
    per output channel, and ``y_scale`` set so that the largest result is about ``target``
    output units (drawn: small, in range, or past the range so that some saturate)."""
    x, w, kw = integer_conv_data(ctx, **limits)
    acc = _sums(x, w, kw)
    bias = _bias(ctx, w, acc)
    if bias is not None:
        acc = acc + bias.reshape((1, -1) + (1,) * (x.ndim - 2))
    x_scale = _log_uniform(ctx, -3, 3, "x_scale")
    per_channel = ctx.draw(st.booleans(), label="w_scale per output channel")
    w_scale = _log_uniform(ctx, -4, 0, "w_scale", size=w.shape[0] if per_channel else None)
    target = target or ctx.draw(st.sampled_from((3.0, 40.0, 120.0, 600.0)), label="largest result")
    y_scale = float(np.float32(x_scale * float(np.max(w_scale)) * _spread(acc) / target))
    kw = {**kw, "x_scale": x_scale, "w_scale": w_scale, "y_scale": y_scale, "y_zero_point": _y_zero_point(ctx)}
    return x, w, (kw if bias is None else {**kw, "bias": bias})


def _tolerance(ctx) -> int:
    return REQUANTIZE_TOLERANCE[ctx.backend.capabilities.requantize]


def _check(ctx, x, w, kw, why):
    """Call the backend's quantised conv and compare it with the exact answer, within the
    declared rounding's tolerance; the result must have ``y_zero_point``'s dtype."""
    expected = reference.conv(x, w, **kw)
    y = ctx.call("conv", x, w, **kw)
    want = output_dtype("conv", (x, w), kw)
    ctx.expect(y.dtype == want, f"conv(x: {x.dtype}, w: {w.dtype}, y_zero_point: {kw['y_zero_point'].dtype}, "
                                f"...).dtype={y.dtype}, but should be {want} (y_zero_point's)")
    declared = ctx.backend.capabilities.requantize
    ctx.expect_within(y.astype(np.int64), expected.astype(np.int64), _tolerance(ctx),
                      f"conv(x: {x.dtype}, w: {w.dtype}, x_scale={float(kw['x_scale'])!r}, "
                      f"y_scale={float(kw['y_scale'])!r}, y_zero_point={int(kw['y_zero_point'])}, ...)",
                      f"{why}; requantize={declared!r} allows {_tolerance(ctx)} output unit(s)",
                      bound_name="output units")
    return expected


@prop("conv_qlinear_definition", op="conv", concepts=("quantized", "definition"), axes=QUANTIZED,
      features=("qlinear",), added=ADDED,
      statement="quantised conv = clip(round_half_even((sum (x - zx)(w[o] - zw[o]) + bias[o]) * x_scale * w_scale[o] "
                "/ y_scale) + y_zero_point), within the declared requantisation's units")
def conv_qlinear_definition(ctx):
    """A quantised layer (ONNX ``QLinearConv``) computes its integer sums exactly, adds the
    int32 bias, multiplies by the real ratio of the float32 scales, rounds half to even, adds
    ``y_zero_point`` and saturates to the result's dtype.

    Scales span six decades, ``w_scale`` is one or one per output channel, the bias is absent or
    as large as the sums, and ``y_scale`` is set so that the largest result is a few units, in
    range, or past the range.  A backend declaring ``requantize="exact"`` must match exactly;
    ``"fixed_point"`` and ``"float32"`` within one unit.
    """
    x, w, kw = qlinear_data(ctx)
    expected = _check(ctx, x, w, kw, "the exact requantised sum")
    ctx.nondegenerate(expected.astype(np.int64) - int(kw["y_zero_point"]))


@prop("conv_qlinear_ties", op="conv", concepts=("quantized", "definition"), axes=QUANTIZED, features=("qlinear",),
      added=ADDED,
      statement="a quantised conv rounds exact halves to even: x_scale * w_scale / y_scale = 2**-k makes half of the "
                "odd sums ties")
def conv_qlinear_ties(ctx):
    """Requantisation rounds a value exactly half-way between two integers to the even one,
    as ONNX's ``QuantizeLinear`` and ``QLinearConv`` say (NumPy's ``rint``).

    The scales are a common float32 factor times powers of two, so each output channel's
    multiplier is exactly ``2**-k`` (``k`` of 1 to 3) and every sum congruent to ``2**(k-1)``
    modulo ``2**k`` lands on a tie, positive and negative.  Shifted data stays within +-2 so
    that few results saturate.  Rounding half up, or half away from zero, differs at every
    tie: a backend declaring ``requantize="exact"`` is caught, a fixed-point one may round
    either way (one unit).
    """
    p = conv_problem(ctx, max_channels=6)
    w_dtype = np.dtype(ctx.draw(st.sampled_from(_integer_dtypes(ctx)), label="w_dtype"))
    info_x, info_w = np.iinfo(ctx.dtype), np.iinfo(w_dtype)
    zx = ctx.draw(st.integers(int(info_x.min) + 2, int(info_x.max) - 2), label="x_zero_point")
    zw = ctx.draw(st.integers(int(info_w.min) + 2, int(info_w.max) - 2), label="w_zero_point")
    x = (zx + ctx.rng.integers(-2, 3, size=p.x)).astype(ctx.dtype)
    w = (zw + ctx.rng.integers(-2, 3, size=p.w)).astype(w_dtype)
    k = ctx.draw(st.integers(1, 3), label="k")
    common = ctx.draw(st.sampled_from((1.0, 3.0, float(np.float32(0.1)), float(np.float32(0.0137)))), label="factor")
    a = ctx.draw(st.integers(-6, 6), label="x_scale exponent")
    # w_scale[o] = 2**-e[o] with e[o] in {0, 1}: channel o's multiplier is exactly 2**-(k + e[o])
    per_channel = ctx.draw(st.booleans(), label="w_scale per output channel")
    e = ctx.rng.integers(0, 2, size=p.w[0]) if per_channel else np.zeros(p.w[0], np.int64)
    x_scale = float(np.float32(common * 2.0 ** a))
    kw = {**p.kwargs, "x_zero_point": zx, "w_zero_point": zw, "x_scale": x_scale,
          "w_scale": (2.0 ** -e).astype(np.float32) if per_channel else 1.0, "y_scale": x_scale * 2.0 ** k,
          "y_zero_point": _y_zero_point(ctx, ctx.draw(st.sampled_from(("centre", None)), label="y_zero_point"))}
    acc = _sums(x, w, kw)
    shift = (k + e).reshape((1, -1) + (1,) * (x.ndim - 2))
    ties = int(np.count_nonzero(np.mod(acc, 2 ** shift) == 2 ** (shift - 1)))
    ctx.nondegenerate(np.array([ties]))
    _check(ctx, x, w, kw, f"multipliers 2**-{k} or 2**-{k + 1}: {ties} ties, each rounded half to even")


@prop("conv_qlinear_saturation", op="conv", concepts=("quantized", "definition"), axes=QUANTIZED,
      features=("qlinear",), added=ADDED,
      statement="a quantised conv saturates: results past the dtype's range are its least or greatest value, never "
                "wrapped")
def conv_qlinear_saturation(ctx):
    """Requantised results beyond int8 or uint8 clamp to the ends of the range.

    ``y_scale`` is set so that the largest result is 20 to 2000 times the range, and
    ``y_zero_point`` is drawn at either end or in between, so that both ends are reached: a
    result cast to int8 without clamping wraps (200 becomes -56), one clamped to the wrong
    dtype's range or before the zero point is added is off by the zero point.
    """
    x, w, kw = qlinear_data(ctx, target=float(ctx.draw(st.sampled_from((20, 200, 2000)), label="overshoot")) * 255)
    kw["y_zero_point"] = _y_zero_point(ctx, ctx.draw(st.sampled_from(("min", "max", None)), label="y_zero_point at"))
    expected = _check(ctx, x, w, kw, "results past the range saturate to its ends")
    info = np.iinfo(kw["y_zero_point"].dtype)
    ctx.nondegenerate(np.array([np.count_nonzero((expected == info.min) | (expected == info.max))]))


@prop("conv_qlinear_per_channel_scales", op="conv", concepts=("quantized", "multichannel"), axes=QUANTIZED,
      features=("qlinear",), added=ADDED,
      statement="a quantised conv applies w_scale[o] to output channel o; scales that differ by orders of magnitude "
                "stay apart")
def conv_qlinear_per_channel_scales(ctx):
    """Per-channel weight scales (one per output channel, as int8 deployment quantises weights)
    each apply to their own channel.

    Each output channel's weights are drawn with their own magnitude (1 to 127 around the
    zero point), and its scale is set from its own sums so that every channel's results span
    about the same range: the scales then differ by up to three orders of magnitude.  Applying
    ``w_scale[0]`` to every channel, or the channels' scales in another order, saturates or
    zeroes whole channels.
    """
    p = conv_problem(ctx, max_channels=8)
    w_dtype = np.dtype(ctx.draw(st.sampled_from(_integer_dtypes(ctx)), label="w_dtype"))
    info_w = np.iinfo(w_dtype)
    zw = np.asarray(ctx.draw(st.lists(st.integers(int(info_w.min), int(info_w.max)), min_size=p.w[0],
                                      max_size=p.w[0]), label="w_zero_point"), dtype=w_dtype)
    if "per_tensor_zero_points" in ctx.backend.capabilities.restrictions_for("conv"):
        zw = int(zw[0])
    sizes = np.asarray(ctx.draw(st.lists(st.sampled_from((1, 3, 30, 127)), min_size=p.w[0], max_size=p.w[0]),
                                label="weight magnitudes"))
    shape = (p.w[0],) + (1,) * (len(p.w) - 1)
    w = np.clip(np.broadcast_to(np.asarray(zw, np.int64), (p.w[0],)).reshape(shape) + ctx.rng.integers(-127, 128, size=p.w) * sizes.reshape(shape) // 127,
                info_w.min, info_w.max).astype(w_dtype)
    x = ctx.integers(p.x, ctx.dtype, kind="full")
    kw = {**p.kwargs, "x_zero_point": 0, "w_zero_point": zw}
    acc = _sums(x, w, kw)
    x_scale = _log_uniform(ctx, -3, 0, "x_scale")
    y_scale = _log_uniform(ctx, -2, 1, "y_scale")
    w_scale = np.array([np.float32(float(y_scale) * 100.0 / (float(x_scale) * _spread(acc, o)))
                        for o in range(p.w[0])], np.float32)
    kw = {**kw, "x_scale": x_scale, "w_scale": w_scale, "y_scale": y_scale, "y_zero_point": _y_zero_point(ctx)}
    expected = _check(ctx, x, w, kw, f"w_scale per channel from {float(w_scale.min()):.3g} to "
                                     f"{float(w_scale.max()):.3g}, each on its own channel")
    ctx.nondegenerate(expected.astype(np.int64) - int(kw["y_zero_point"]))


@prop("conv_qlinear_zero_point_limits", op="conv", concepts=("quantized", "zero-padding"), axes=QUANTIZED,
      features=("qlinear",), added=ADDED,
      statement="a quantised conv is exact with every zero point at an end of its range (padding holds x_zero_point)")
def conv_qlinear_zero_point_limits(ctx):
    """Zero points at the ends of their ranges: ``x_zero_point``, ``w_zero_point`` and
    ``y_zero_point`` each the least or greatest value of its dtype.

    Shifted inputs then reach +-255 (an 8-bit subtraction wraps), padding holds an extreme
    zero point (a buffer padded with 0 adds ``-x_zero_point * w`` per tap), and the output
    zero point leaves room on one side only.
    """
    x, w, kw = integer_conv_data(ctx, kind=ctx.draw(st.sampled_from(("full", "extremes")), label="integers"))
    nd = x.ndim - 2
    if not any(a or b for a, b in kw["padding"]):
        kw = {**kw, "padding": ((1, 1),) * nd}
    ix, iw = np.iinfo(x.dtype), np.iinfo(w.dtype)
    end = lambda info, label: int(info.max if ctx.draw(st.booleans(), label=label) else info.min)  # noqa: E731
    kw = {**kw, "x_zero_point": end(ix, "x_zero_point high")}
    kw["w_zero_point"] = (np.asarray([end(iw, "w_zero_point high")] * w.shape[0], dtype=w.dtype)
                          if np.size(kw["w_zero_point"]) > 1 else end(iw, "w_zero_point high"))
    acc = _sums(x, w, kw)
    x_scale, w_scale = _log_uniform(ctx, -3, 0, "x_scale"), _log_uniform(ctx, -3, 0, "w_scale")
    y_scale = float(np.float32(x_scale * w_scale * _spread(acc) / 100.0))
    kw = {**kw, "x_scale": x_scale, "w_scale": w_scale, "y_scale": y_scale,
          "y_zero_point": _y_zero_point(ctx, ctx.draw(st.sampled_from(("min", "max")), label="y_zero_point at"))}
    expected = _check(ctx, x, w, kw, "zero points at the ends of their ranges")
    ctx.nondegenerate(expected.astype(np.int64) - int(kw["y_zero_point"]))


@prop("conv_qlinear_rejects_bad_arguments", op="conv", concepts=("quantized", "validation"), axes=QUANTIZED,
      features=("qlinear",), added=ADDED, only_if="validates_arguments",
      statement="a quantised conv raises for a scale that is not positive and finite, a w_scale of the wrong length, "
                "a y_zero_point outside its dtype or a bias that is not (C_out,) int32")
def conv_qlinear_rejects_bad_arguments(ctx):
    """The quantisation arguments are checked like every other (docs/howto/declare.md).

    A zero, negative, infinite or NaN scale has no meaning; ``w_scale`` needs one entry or one
    per output channel; ``y_zero_point`` must fit the result's dtype; the bias is int32, one
    per output channel, in units of ``x_scale * w_scale``.  Each must raise the declared
    error, naming the argument.
    """
    x, w, kw = qlinear_data(ctx)
    info = np.iinfo(kw["y_zero_point"].dtype)
    cases = {
        "x_scale of zero": ("x_scale", {"x_scale": 0.0}),
        "negative y_scale": ("y_scale", {"y_scale": -float(kw["y_scale"])}),
        "x_scale of NaN": ("x_scale", {"x_scale": float("nan")}),
        "infinite y_scale": ("y_scale", {"y_scale": float("inf")}),
        "w_scale of the wrong length": ("w_scale", {"w_scale": np.ones(w.shape[0] + 1, np.float32)}),
        "y_zero_point outside its dtype": ("y_zero_point", {"y_zero_point": int(info.max) + 1}),
        "float bias": ("bias", {"bias": np.zeros(w.shape[0], np.float32)}),
        "bias of the wrong length": ("bias", {"bias": np.zeros(w.shape[0] + 1, np.int32)}),
    }
    if kw["y_zero_point"].dtype != x.dtype:  # a Python int's dtype is x's: keep the case about the range
        cases["y_zero_point outside its dtype"] = ("y_zero_point", {"y_zero_point": np.array(0, np.int16)})
    name = ctx.draw(st.sampled_from(sorted(cases)), label="bad argument")
    argument, change = cases[name]
    expect_rejected(ctx, "conv", ctx.attempt("conv", x, w, **{**kw, **change}), name, argument)
