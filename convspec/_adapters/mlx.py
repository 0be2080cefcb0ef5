"""MLX (Apple's array framework, here its CPU back end on Linux: ``pip install "mlx[cpu]"``) as
a convspec backend: ``mlx.core.conv_general`` for the layer, its gradients by ``mlx.core.vjp``,
``mlx.nn.MaxPool1d/2d/3d`` and ``AvgPool1d/2d/3d`` for the pools.  MLX evaluates lazily; each
call's result is evaluated when it is read.

Conventions translated, never results: MLX computes channels last, so arrays are transposed
to ``(N, *S, C)`` and kernels to ``(C_out, *K, C_in / groups)`` and back; the layer takes the
contract's ``(before, after)`` padding as ``conv_general``'s ``(low, high)`` lists; the pools
run on input padded by ``mlx.core.pad`` (-inf for the max, zeros for sums), the ceil-mode
overhang as extra end padding, and the average is window sums (MLX's average over the padded
input times the window size) over the count of the elements that count, computed the same
way from ones.  The bias is MLX's addition, one value per channel (``shared_bias_only``).
Declared float32 (MLX's CPU convolution takes no float64); no pool dilation (MLX's pools have
none).
"""
import mlx.core as mx
import mlx.nn as nn
import numpy as np

from convspec import Unsupported
from convspec._adapters._pooling import counted, crop, overhang

convspec_capabilities = {"ops": ["conv", "conv_grad_input", "conv_grad_weight", "max_pool", "avg_pool"],
                         "dtypes": ["float32"], "biases": True, "restrictions": {"conv": ["shared_bias_only", "no_groups_in_3d"],
                                          "conv_grad_input": ["no_groups_in_3d"], "conv_grad_weight": ["no_groups_in_3d"]},
                         "features": {"max_pool": ["pool_padding_to_window"], "avg_pool": ["pool_padding_to_window"]}}

_POOLS = {"max": (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d), "avg": (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)}


def _last(a):
    """(N, C, *S) -> (N, *S, C), as an MLX array; float32 only (MLX would compute float64 in float32)."""
    if a.dtype != np.float32:
        raise TypeError(f"dtype {a.dtype}: the MLX adapter offers float32 only (mlx.core.array makes float64 float32)")
    return mx.array(np.ascontiguousarray(np.moveaxis(a, 1, -1)))


def _first(a):
    """(N, *S, C), an MLX array -> (N, C, *S), a NumPy array."""
    return np.ascontiguousarray(np.moveaxis(np.array(a), -1, 1))


def _kernel(w):
    """(C_out, C_in / groups, *K) -> (C_out, *K, C_in / groups)."""
    return _last(w)


def _conv(xl, wl, stride, padding, dilation, groups):
    if len(stride) == 3 and groups > 1:
        raise Unsupported("MLX's convolution: 'Can only handle groups != 1 in 1D or 2D convolutions'")
    return mx.conv_general(xl, wl, stride=list(stride), padding=([int(a) for a, _ in padding], [int(b) for _, b in padding]),
                           kernel_dilation=list(dilation), groups=int(groups))


def conv(x, w, *, stride, padding, dilation, groups, bias=None):
    if bias is not None and np.ndim(bias) != 1:
        raise Unsupported("a shared bias only (one value per output channel), declared shared_bias_only")
    y = _conv(_last(x), _kernel(w), stride, padding, dilation, groups)
    if bias is not None:
        y = y + mx.array(np.asarray(bias))  # channels last: the bias broadcasts along the last axis
    return _first(y)


def _vjp(gy, x, w, kw):
    """The gradients (of x, of w), both channels last, of the layer at ``x``, ``w`` for ``gy``."""
    def layer(xl, wl):
        return _conv(xl, wl, **kw)
    _, grads = mx.vjp(layer, [_last(x), _kernel(w)], [_last(gy)])
    return grads


def conv_grad_input(gy, w, *, input_shape, stride, padding, dilation, groups):
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return _first(_vjp(gy, np.zeros(input_shape, dtype=gy.dtype), w, kw)[0])


def conv_grad_weight(gy, x, *, weight_shape, stride, padding, dilation, groups):
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return _first(_vjp(gy, x, np.zeros(weight_shape, dtype=gy.dtype), kw)[1])


def _pool(kind, a, window, stride):
    """MLX's pool of kind ``kind`` over the channels-last MLX array ``a``, without padding."""
    return _POOLS[kind][len(window) - 1](kernel_size=tuple(int(k) for k in window),
                                         stride=tuple(int(s) for s in stride), padding=0)(a)


def _padded(a, widths, value=0.0):
    return mx.pad(a, [(0, 0)] + [(int(p), int(q)) for p, q in widths] + [(0, 0)], constant_values=value)


def max_pool(x, *, window, stride, padding, ceil_mode=False):
    out, _, widths = overhang(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode)
    return crop(_first(_pool("max", _padded(_last(x), widths, -np.inf), window, stride)), out)


def avg_pool(x, *, window, stride, padding, ceil_mode=False, count_padding=False):
    out, extra, widths = overhang(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode)
    size = float(np.prod(window))
    sums = _pool("avg", _padded(_last(x), widths), window, stride) * size
    ones = counted(x.shape, padding, extra, count_padding, x.dtype)
    counts = _pool("avg", _last(ones), window, stride) * size
    return crop(_first(sums / counts), out)
