"""Keras 3 as a convspec backend: ``keras.ops.conv``, ``keras.ops.max_pool`` and
``keras.ops.average_pool`` with ``data_format="channels_first"``, on the back end Keras is
configured with (``KERAS_BACKEND``; Keras's default is TensorFlow).  What is checked is
Keras's own layer of code: its kernel layout, its channels-first handling (Keras transposes
where the back end computes channels last), and the back end's kernels underneath.

Conventions translated, never results: Keras's kernels are ``(*K, C_in / groups, C_out)``
(the groups follow from the channel counts); Keras pads only ``"valid"`` or ``"same"``, so the
contract's ``(before, after)`` padding is added with ``keras.ops.pad`` (-inf for the max, zeros
for sums) and the layer runs ``"valid"``; the ceil-mode overhang is extra end padding; the
average is window sums (Keras's average over the padded input times the window size) over the
count of the elements that count.  Declared as the default back end has them:
``no_stride_with_dilation`` (TensorFlow's rule), ``shared_bias_only`` (the bias is Keras's
addition, one value per channel), the layer in float32 and float64 (Keras documents both
formats for every dtype; on TensorFlow's CPU the float64 layer in channels first raises, a
confirmed deviation), the pools in float32 (TensorFlow's 3-D pools take no float64).
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no start-up banner on stderr

import keras  # noqa: E402
import numpy as np  # noqa: E402

from convspec import Unsupported  # noqa: E402
from convspec._adapters._pooling import counted, crop, overhang  # noqa: E402

convspec_capabilities = {"ops": ["conv", "max_pool", "avg_pool"], "biases": True,
                         # the pools in float32: TensorFlow's MaxPool3D/AvgPool3D take no float64
                         "dtypes": {"conv": ["float32", "float64"], "*": ["float32"]},
                         "restrictions": {"conv": ["no_stride_with_dilation", "shared_bias_only"]},
                         "features": {"max_pool": ["pool_padding_to_window"], "avg_pool": ["pool_padding_to_window"]}}

ops = keras.ops


def _padded(x, widths, value=0.0):
    return ops.pad(ops.convert_to_tensor(x), [(0, 0), (0, 0)] + [(int(a), int(b)) for a, b in widths],
                   constant_values=value)


def conv(x, w, *, stride, padding, dilation, groups, bias=None):
    if bias is not None and np.ndim(bias) != 1:
        raise Unsupported("a shared bias only (one value per output channel), declared shared_bias_only")
    kernel = np.ascontiguousarray(np.moveaxis(np.moveaxis(w, 0, -1), 0, -2))  # (*K, C_in / groups, C_out)
    y = ops.conv(_padded(x, padding), ops.convert_to_tensor(kernel), strides=tuple(int(s) for s in stride),
                 padding="valid", data_format="channels_first", dilation_rate=tuple(int(d) for d in dilation))
    if bias is not None:
        y = y + ops.reshape(ops.convert_to_tensor(np.asarray(bias)), (-1,) + (1,) * (np.ndim(x) - 2))
    return np.asarray(ops.convert_to_numpy(y))


def _pool(fn, a, window, stride):
    if a.dtype != "float32":  # declared: TensorFlow's 3-D pools take no float64, so none is offered
        raise TypeError(f"dtype {a.dtype}: the Keras adapter offers its pools in float32 only")
    return fn(a, tuple(int(k) for k in window), strides=tuple(int(s) for s in stride), padding="valid",
              data_format="channels_first")


def max_pool(x, *, window, stride, padding, ceil_mode=False):
    out, _, widths = overhang(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode)
    return crop(ops.convert_to_numpy(_pool(ops.max_pool, _padded(x, widths, -np.inf), window, stride)), out)


def avg_pool(x, *, window, stride, padding, ceil_mode=False, count_padding=False):
    out, extra, widths = overhang(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode)
    size = float(np.prod(window))
    sums = _pool(ops.average_pool, _padded(x, widths), window, stride) * size
    counts = _pool(ops.average_pool, ops.convert_to_tensor(counted(x.shape, padding, extra, count_padding, x.dtype)),
                   window, stride) * size
    return crop(ops.convert_to_numpy(sums / counts), out)
