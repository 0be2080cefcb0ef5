"""PaddlePaddle (CPU) as a convspec backend: ``paddle.nn.functional`` layers and pools,
gradients by Paddle's autograd.

Conventions translated, never results: the contract's ``(before, after)`` padding is Paddle's
own list of pairs (asymmetric padding is native to Paddle's convolutions); for the pools the
declared padding and the contract's ceil-mode overhang are added with ``F.pad`` (``-inf`` for
the max, zeros for sums) and the windows pooled without padding, the average being window sums
over the count of elements that count (Paddle's ``exclusive`` rule differs in ceil mode).
``lp_pool`` is Paddle's ``lp_pool1d``/``lp_pool2d`` (no 3-D) on ``|x|`` (Paddle documents the
pool as ``(sum x^p)^(1/p)``).
"""
import numpy as np
import paddle
import paddle.nn.functional as F

from convspec._adapters._pooling import counted, crop, overhang

paddle.set_device("cpu")

convspec_capabilities = {
    "ops": ["conv", "conv_grad_input", "conv_grad_weight", "max_pool", "avg_pool", "lp_pool", "adaptive_max_pool",
            "adaptive_avg_pool"],
    "biases": True,
    "dtypes": {"lp_pool": ["float32"], "*": ["float32", "float64"]},
    "ndims": {"lp_pool": [1, 2], "*": [1, 2, 3]},
    "features": {"max_pool": ["pool_padding_to_window"], "avg_pool": ["pool_padding_to_window"],
                 "lp_pool": ["pool_padding_to_window"]},
    "reasons": {"max_unpool": "not adapted yet (Paddle has F.max_unpool1d/2d/3d)"},
}


def _t(a, grad=False):
    return paddle.to_tensor(np.ascontiguousarray(a), stop_gradient=not grad)


def _np(t):
    return np.ascontiguousarray(t.numpy())


def _conv(xt, wt, stride, padding, dilation, groups):
    fn = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}[xt.ndim]
    pads = [[0, 0], [0, 0]] + [[int(a), int(b)] for a, b in padding]
    return fn(xt, wt, stride=list(stride), padding=pads, dilation=list(dilation), groups=int(groups))


def conv(x, w, *, stride, padding, dilation, groups, bias=None):
    y = _conv(_t(x), _t(w), stride, padding, dilation, groups)
    if bias is not None:
        b = _t(bias)
        y = y + b.reshape(list(b.shape) + [1] * (y.ndim - 1 - b.ndim))
    return _np(y)


def _grads(gy, x, w, kw):
    xt, wt = _t(x, grad=True), _t(w, grad=True)
    _conv(xt, wt, **kw).backward(_t(gy))
    return _np(xt.grad), _np(wt.grad)


def conv_grad_input(gy, w, *, input_shape, stride, padding, dilation, groups):
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return _grads(gy, np.zeros(input_shape, dtype=gy.dtype), w, kw)[0]


def conv_grad_weight(gy, x, *, weight_shape, stride, padding, dilation, groups):
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return _grads(gy, x, np.zeros(weight_shape, dtype=gy.dtype), kw)[1]


def _padded(x, window, stride, padding, ceil_mode, fill):
    """x padded (NumPy) by the declared padding and the ceil-mode overhang, and the output shape."""
    out, _, widths = overhang(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode)
    return np.pad(x, ((0, 0), (0, 0)) + tuple(widths), constant_values=fill), out


def _sums(xp, window, stride):
    fn = {3: F.avg_pool1d, 4: F.avg_pool2d, 5: F.avg_pool3d}[xp.ndim]
    return _np(fn(_t(xp), list(window), list(stride), padding=0, exclusive=False)) * float(np.prod(window))


def max_pool(x, *, window, stride, padding, ceil_mode=False):
    xp, out = _padded(x, window, stride, padding, ceil_mode, -np.inf)
    fn = {3: F.max_pool1d, 4: F.max_pool2d, 5: F.max_pool3d}[x.ndim]
    return crop(_np(fn(_t(xp), list(window), list(stride), padding=0)), out)


def avg_pool(x, *, window, stride, padding, ceil_mode=False, count_padding=False):
    xp, out = _padded(x, window, stride, padding, ceil_mode, 0.0)
    extra = [t - (n + a + b) for t, n, (a, b) in zip(xp.shape[2:], x.shape[2:], padding)]
    mask = counted(x.shape, padding, extra, count_padding, x.dtype)
    return crop(_sums(xp, window, stride) / _sums(mask, window, stride), out).astype(x.dtype)


def lp_pool(x, *, p, window, stride, padding, ceil_mode=False):
    if x.dtype != np.float32:
        raise TypeError(f"dtype {x.dtype}: Paddle's lp_pool kernels are float32 here")
    xp, out = _padded(np.abs(x), window, stride, padding, ceil_mode, 0.0)
    fn = {3: F.lp_pool1d, 4: F.lp_pool2d}[x.ndim]
    win, st = (window[0], stride[0]) if x.ndim == 3 else (list(window), list(stride))
    return crop(_np(fn(_t(xp), float(p), win, st)), out)


def adaptive_max_pool(x, *, output_size):
    fn = {3: F.adaptive_max_pool1d, 4: F.adaptive_max_pool2d, 5: F.adaptive_max_pool3d}[x.ndim]
    return _np(fn(_t(x), list(output_size) if x.ndim > 3 else output_size[0]))


def adaptive_avg_pool(x, *, output_size):
    fn = {3: F.adaptive_avg_pool1d, 4: F.adaptive_avg_pool2d, 5: F.adaptive_avg_pool3d}[x.ndim]
    return _np(fn(_t(x), list(output_size) if x.ndim > 3 else output_size[0]))
