"""JAX (``jax.lax``, XLA on CPU) as a convspec backend.

``conv`` is ``lax.conv_general_dilated`` (NCH... layouts, explicit (before, after) padding,
kernel dilation, feature groups); the gradients are ``jax.vjp`` of it; the pools are
``lax.reduce_window`` (max with -inf padding; the average as window sums divided by the count
of elements that count, as the contract defines it).  Conventions
translated: float64 needs ``jax_enable_x64`` (set here); float32 convolutions ask for
``Precision.HIGHEST`` (XLA may otherwise use reduced-precision passes on some hardware); the
contract's ceil-mode overhang is extra end padding that never counts; integer ``conv`` has no
zero points in ``lax``: int8/uint8 operands are widened to int32 less their zero points and
summed with ``preferred_element_type=int32``.  Not translated (a
documented behaviour, listed on the scoreboard): XLA on CPU flushes subnormal inputs and
results to zero.
"""
import jax

jax.config.update("jax_enable_x64", True)  # float64 stays float64 (JAX's default truncates to float32)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402

from convspec._adapters._pooling import counted, crop, overhang  # noqa: E402

# no lp_pool: JAX has none, and one composed here would judge this file, not JAX
convspec_capabilities = {"ops": ["conv", "conv_grad_input", "conv_grad_weight", "max_pool", "avg_pool"], "biases": True,
                         "features": ["pool_dilation", "pool_padding_to_window"],
                         "dtypes": {"*": ["float32", "float64"], "conv": ["float32", "float64", "int8", "uint8"],
                                    "max_pool": ["float32", "float64", "int8", "uint8"]}}

_HIGHEST = lax.Precision.HIGHEST


def _spec(nd):
    sp = "DHW"[-nd:] if nd <= 3 else None
    return ("NC" + sp, "OI" + sp, "NC" + sp)


def _conv(x, w, stride, padding, dilation, groups, **extra):
    nd = x.ndim - 2
    return lax.conv_general_dilated(x, w, window_strides=tuple(stride), padding=[tuple(p) for p in padding],
                                    rhs_dilation=tuple(dilation), feature_group_count=groups,
                                    dimension_numbers=_spec(nd), **({"precision": _HIGHEST} | extra))


def conv(x, w, *, stride, padding, dilation, groups, bias=None, x_zero_point=None, w_zero_point=None):
    if x.dtype.kind in "iu":  # int32 operands less their zero points, summed in int32 by XLA
        xs = jnp.asarray(x, jnp.int32) - jnp.int32(0 if x_zero_point is None else x_zero_point)
        zw = jnp.asarray(0 if w_zero_point is None else w_zero_point, jnp.int32)
        ws = jnp.asarray(w, jnp.int32) - zw.reshape(zw.shape + (1,) * (w.ndim - 1))
        return np.asarray(_conv(xs, ws, stride, padding, dilation, groups, precision=None,
                                preferred_element_type=jnp.int32))
    y = _conv(jnp.asarray(x), jnp.asarray(w), stride, padding, dilation, groups)
    if bias is not None:
        b = jnp.asarray(bias)
        y = y + b.reshape(b.shape + (1,) * (y.ndim - 1 - b.ndim))
    return np.asarray(y)


def conv_grad_input(gy, w, *, input_shape, stride, padding, dilation, groups):
    x0 = jnp.zeros(tuple(input_shape), dtype=gy.dtype)
    _, pullback = jax.vjp(lambda x: _conv(x, jnp.asarray(w), stride, padding, dilation, groups), x0)
    return np.asarray(pullback(jnp.asarray(gy))[0])


def conv_grad_weight(gy, x, *, weight_shape, stride, padding, dilation, groups):
    w0 = jnp.zeros(tuple(weight_shape), dtype=gy.dtype)
    _, pullback = jax.vjp(lambda w: _conv(jnp.asarray(x), w, stride, padding, dilation, groups), w0)
    return np.asarray(pullback(jnp.asarray(gy))[0])


def _window_padding(x, window, stride, padding, ceil_mode, dilation):
    """Per-axis (before, after) padding for reduce_window, the ceil-mode overhang included,
    and the overhang alone (it never counts)."""
    out, extra, padded = overhang(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                                  dilation=dilation)
    return [(0, 0), (0, 0)] + padded, extra, out


def _reduce(x, init, fn, window, stride, pads, dilation):
    return lax.reduce_window(x, init, fn, (1, 1) + tuple(window), (1, 1) + tuple(stride), pads,
                             window_dilation=(1, 1) + tuple(dilation))


def max_pool(x, *, window, stride, padding, ceil_mode=False, dilation=None):
    dilation = (1,) * len(window) if dilation is None else tuple(dilation)
    pads, _, out = _window_padding(x, window, stride, padding, ceil_mode, dilation)
    xj = jnp.asarray(x)
    lowest = np.iinfo(x.dtype).min if x.dtype.kind in "iu" else -np.inf  # padding: never the max
    return crop(_reduce(xj, jnp.array(lowest, xj.dtype), lax.max, window, stride, pads, dilation), out)


def avg_pool(x, *, window, stride, padding, ceil_mode=False, count_padding=False, dilation=None):
    dilation = (1,) * len(window) if dilation is None else tuple(dilation)
    pads, extra, out = _window_padding(x, window, stride, padding, ceil_mode, dilation)
    xj = jnp.asarray(x)
    zero = jnp.array(0, xj.dtype)
    sums = _reduce(xj, zero, lax.add, window, stride, pads, dilation)
    mask = jnp.asarray(counted(x.shape, padding, extra, count_padding, x.dtype))
    counts = _reduce(mask, zero, lax.add, window, stride, [(0, 0)] * x.ndim, dilation)
    return crop(sums / counts, out)
