"""Correct building blocks for the mutants: each mutant file changes one thing.

The mutants are deliberately wrong backends; convspec must catch every one of them.  Each
file's docstring names the bug class.  They build on the reference sums (fast enough for
the properties) so that the only wrong thing in a mutant is its bug.
"""


import numpy as np

from convspec._contract import reference


def correlate(x, w, *, mode):
    return reference.correlate(x, w, mode=mode).astype(x.dtype)


def convolve(x, w, *, mode):
    return reference.convolve(x, w, mode=mode).astype(x.dtype)


def conv(x, w, *, stride, padding, dilation, groups):
    return reference.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups).astype(x.dtype)


def dense(x, w, kwargs):
    """The stride-1 output for the same padding, dilation and groups."""
    return conv(x, w, **{**kwargs, "stride": (1,) * (x.ndim - 2)})


def _cast(name):
    def op(*args, **kwargs):
        return getattr(reference, name)(*args, **kwargs).astype(args[0].dtype)
    op.__name__ = name
    return op


conv_grad_input = _cast("conv_grad_input")
conv_grad_weight = _cast("conv_grad_weight")
max_pool = _cast("max_pool")
avg_pool = _cast("avg_pool")
lp_pool = _cast("lp_pool")
adaptive_max_pool = _cast("adaptive_max_pool")
adaptive_avg_pool = _cast("adaptive_avg_pool")
local_conv = _cast("local_conv")
tiled_conv = _cast("tiled_conv")


def conv_with_bias(x, w, *, stride, padding, dilation, groups, bias=None):
    return reference.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias).astype(x.dtype)


def fitted(compute, shape, dtype):
    """``compute()`` cut or zero-filled to ``shape`` (zeros if it raises ValueError): how a
    mutant with a wrong internal size still returns an array of the expected shape."""
    out = np.zeros(shape, dtype=dtype)
    try:
        y = compute()
    except ValueError:
        return out
    cut = tuple(slice(0, min(a, b)) for a, b in zip(out.shape, y.shape))
    out[cut] = y[cut]
    return out


QLINEAR = {"accuracy": "direct", "ops": ["conv"], "dtypes": {"conv": ["int8", "uint8"]}, "features": {"conv": ["qlinear"]}}


def quantised(requantise):
    """A ``conv`` for the quantised-conv mutants: an integer conv as the contract says, and a
    quantised one whose last step is ``requantise(acc, multipliers, y_zero_point, dtype)``:
    ``acc`` the exact sums with the bias (int64), ``multipliers`` each output channel's
    ``x_scale * w_scale[o] / y_scale`` as a ``Fraction``; everything before it is correct."""
    from fractions import Fraction

    from convspec._contract.functions import check_integer_conv_args, check_qlinear_conv_args

    def conv(x, w, *, stride, padding, dilation, groups, x_zero_point=0, w_zero_point=0, bias=None, x_scale=None,
             w_scale=None, y_scale=None, y_zero_point=None):
        if y_scale is None:
            x, w, stride, padding, dilation, groups, zx, zw = check_integer_conv_args(
                x, w, stride, padding, dilation, groups, x_zero_point, w_zero_point)
            return reference.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups,
                                  x_zero_point=zx, w_zero_point=zw, acc=np.int64).astype(np.int32)
        x, w, stride, padding, dilation, groups, zx, zw, sx, sw, sy, zy, b, dtype = check_qlinear_conv_args(
            x, w, stride, padding, dilation, groups, x_zero_point, w_zero_point, x_scale, w_scale, y_scale,
            y_zero_point, bias)
        acc = reference.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups, x_zero_point=zx,
                             w_zero_point=zw, bias=b, acc=np.int64)
        multipliers = [Fraction(float(sx)) * Fraction(float(s)) / Fraction(float(sy)) for s in sw]
        return requantise(acc, multipliers, int(zy), dtype)

    return conv


def each(acc, multipliers, step, dtype):
    """``step(int(acc[i]), multipliers[o])`` for every entry (``o`` its channel), as ``dtype`` (no clipping)."""
    out = np.empty(acc.shape, np.int64)
    for i in np.ndindex(*acc.shape):
        out[i] = step(int(acc[i]), multipliers[i[1]])
    return out


def saturated(y, dtype):
    info = np.iinfo(dtype)
    return np.clip(y, info.min, info.max).astype(dtype)
