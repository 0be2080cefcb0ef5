"""TensorFlow (``tf.nn``, CPU) as a convspec backend: ``tf.nn.convolution`` for the layer, its
gradients by ``tf.GradientTape``, ``tf.nn.pool`` for max and average pooling.

Conventions translated, never results: TensorFlow on CPU computes channels last, so arrays are
transposed to ``(N, *S, C)`` and kernels to ``(*K, C_in / groups, C_out)`` and back; explicit
``(before, after)`` padding goes through ``tf.pad`` (-inf for the max, zeros for sums), the
ceil-mode overhang as extra end padding that never counts; the average is window sums over the
count of the elements that count, as the contract defines it (``tf.nn.pool``'s ``'AVG'`` over
the padded input times the window size gives the sums).  3-D grouped layers, which the CPU
``Conv3D`` kernel rejects, are one ``tf.nn.convolution`` per group.

Declared as TensorFlow has it: no stride above 1 together with a dilation above 1
(``no_stride_with_dilation``: "strides > 1 not supported in conjunction with dilation_rate > 1"),
no pooling stride longer than the window (``stride_within_window``: "not supported due to
inconsistency between CPU and GPU implementations").  Two limits depend on the dtype, which a
declaration cannot say, so the adapter narrows what it offers and says why: grouped gradients
("Gradients for grouped convolutions are not supported on CPU" in float64; float32 goes through
oneDNN) are declined as ``no_groups``, and the pools are offered in float32 (the CPU
``MaxPool3D``/``AvgPool3D`` kernels take no float64; the 1-D and 2-D ones do).
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no start-up banner on stderr

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from convspec import Unsupported  # noqa: E402
from convspec._adapters._pooling import counted, crop, overhang  # noqa: E402

convspec_capabilities = {"ops": ["conv", "conv_grad_input", "conv_grad_weight", "max_pool", "avg_pool"],
                         # pools: float32 (MaxPool3D/AvgPool3D take no float64, the 1-D and 2-D pools do)
                         "biases": True, "dtypes": {"max_pool": ["float32"], "avg_pool": ["float32"],
                                                    "*": ["float32", "float64"]},
                         "restrictions": {"conv": ["no_stride_with_dilation"],
                                          "conv_grad_input": ["no_stride_with_dilation", "no_groups"],
                                          "conv_grad_weight": ["no_stride_with_dilation", "no_groups"],
                                          "max_pool": ["stride_within_window"], "avg_pool": ["stride_within_window"]},
                         "features": {"max_pool": ["pool_padding_to_window"], "avg_pool": ["pool_padding_to_window"]}}


def _last(a):
    """(N, C, *S) -> (N, *S, C)."""
    return tf.transpose(a, [0] + list(range(2, len(a.shape))) + [1])


def _first(a):
    """(N, *S, C) -> (N, C, *S)."""
    return tf.transpose(a, [0, len(a.shape) - 1] + list(range(1, len(a.shape) - 1)))


def _pad(a, padding, value=0.0):
    return tf.pad(a, [[0, 0]] + [list(p) for p in padding] + [[0, 0]], constant_values=value)


def _conv(x, w, stride, padding, dilation, groups):
    """``x`` channels last, ``w`` in the contract's layout; the result channels last."""
    k = tf.transpose(w, list(range(2, len(w.shape))) + [1, 0])  # (*K, C_in / groups, C_out)
    xp = _pad(x, padding)
    if len(w.shape) == 5 and groups > 1:  # the CPU Conv3D kernel takes no groups: one call per group
        c, o = x.shape[-1] // groups, w.shape[0] // groups
        return tf.concat([tf.nn.convolution(xp[..., g * c:(g + 1) * c], k[..., g * o:(g + 1) * o], strides=stride,
                                            padding="VALID", dilations=dilation) for g in range(groups)], axis=-1)
    return tf.nn.convolution(xp, k, strides=stride, padding="VALID", dilations=dilation)


def conv(x, w, *, stride, padding, dilation, groups, bias=None):
    y = _first(_conv(_last(tf.constant(x)), tf.constant(w), list(stride), padding, list(dilation), groups))
    if bias is not None:
        b = tf.constant(bias)
        y = y + tf.reshape(b, list(b.shape) + [1] * (len(y.shape) - 1 - len(b.shape)))
    return y.numpy()


def _gradient(gy, x, w, kw, of):
    if kw["groups"] > 1:  # declared no_groups: TensorFlow has them in float32 only
        raise Unsupported("grouped gradients: 'not supported on CPU' in float64 (float32 has them through oneDNN)")
    x, w = tf.Variable(_last(tf.constant(x))), tf.Variable(tf.constant(w))
    with tf.GradientTape() as tape:
        y = _conv(x, w, **kw)
    return tape.gradient(y, {"x": x, "w": w}[of], output_gradients=_last(tf.constant(gy)))


def conv_grad_input(gy, w, *, input_shape, stride, padding, dilation, groups):
    kw = dict(stride=list(stride), padding=padding, dilation=list(dilation), groups=groups)
    return _first(_gradient(gy, np.zeros(input_shape, gy.dtype), w, kw, "x")).numpy()


def conv_grad_weight(gy, x, *, weight_shape, stride, padding, dilation, groups):
    kw = dict(stride=list(stride), padding=padding, dilation=list(dilation), groups=groups)
    return _gradient(gy, x, np.zeros(weight_shape, gy.dtype), kw, "w").numpy()


def _pool(x, kind, window, stride, padding, ceil_mode, fill):
    if x.dtype != np.float32:  # declared float32: MaxPool3D/AvgPool3D take no float64
        raise Unsupported(f"{x.dtype} pools: offered in float32 only (the 3-D CPU kernels take no float64)")
    out, extra, widths = overhang(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode)
    y = tf.nn.pool(_pad(_last(tf.constant(x)), widths, fill), list(window), kind, strides=list(stride), padding="VALID")
    return _first(y), out, extra


def max_pool(x, *, window, stride, padding, ceil_mode=False):
    y, out, _ = _pool(x, "MAX", window, stride, padding, ceil_mode, -np.inf)
    return crop(y.numpy(), out)


def avg_pool(x, *, window, stride, padding, ceil_mode=False, count_padding=False):
    taps = float(np.prod(window))
    means, out, extra = _pool(x, "AVG", window, stride, padding, ceil_mode, 0.0)  # over every tap
    mask = counted(x.shape, padding, extra, count_padding, x.dtype)  # 1 where an element counts
    counts = np.rint(tf.nn.pool(_last(tf.constant(mask)), list(window), "AVG", strides=list(stride),
                                padding="VALID").numpy() * taps)  # whole numbers, exactly
    with np.errstate(invalid="ignore"):  # a window of padding only: 0 / 0
        return crop(means.numpy() * x.dtype.type(taps) / _first(counts).numpy(), out).astype(x.dtype)
