"""tinygrad as a convspec backend: ``Tensor.conv2d`` (N-D), gradients by tinygrad's autograd,
``max_pool2d`` and ``avg_pool2d`` (N-D too).  tinygrad picks its device from the environment
(``DEV=CPU`` needs clang; ``DEV=PYTHON`` is tinygrad's own interpreter, slow but needing
nothing); it compiles per shape, so the profile ``jit`` suits it.

Conventions translated, never results: padding is added explicitly with ``Tensor.pad`` (-inf
for the max, zeros for sums), so the contract's asymmetric padding and its ceil-mode overhang
(extra end padding that never counts) need no tinygrad keyword; the average is window sums
(``avg_pool2d`` of the padded input times the window size) over the count of the elements
that count, computed the same way from ones.  The bias is tinygrad's own, shared per channel
(restriction ``shared_bias_only``).
"""
import numpy as np
from tinygrad import Tensor

from convspec import Unsupported

from convspec._adapters._pooling import crop, overhang

convspec_capabilities = {"ops": ["conv", "conv_grad_input", "conv_grad_weight", "max_pool", "avg_pool"],
                         "biases": True, "restrictions": {"conv": ["shared_bias_only"]},
                         "features": {"max_pool": ["pool_dilation", "pool_padding_to_window"],
                                      "avg_pool": ["pool_dilation", "pool_padding_to_window"]}}


def _t(a):
    return Tensor(np.ascontiguousarray(a))


def _padded(t, widths, value=0.0):
    return t.pad(((0, 0), (0, 0)) + tuple((int(a), int(b)) for a, b in widths), value=value)


def _conv(xt, wt, stride, padding, dilation, groups, bias=None):
    return _padded(xt, padding).conv2d(wt, bias=bias, groups=int(groups), stride=tuple(stride),
                                       dilation=tuple(dilation))


def conv(x, w, *, stride, padding, dilation, groups, bias=None):
    if bias is not None and np.ndim(bias) != 1:  # conv2d adds bias.reshape(1, -1, 1, ...): one per channel
        raise Unsupported("tinygrad's conv2d takes a shared bias only (one value per output channel)")
    bt = None if bias is None else _t(bias)
    return _conv(_t(x), _t(w), stride, padding, dilation, groups, bt).numpy()


def _grads(gy, x, w, kw):
    xt, wt = _t(x), _t(w)
    return _conv(xt, wt, **kw).gradient(xt, wt, gradient=_t(gy))


def conv_grad_input(gy, w, *, input_shape, stride, padding, dilation, groups):
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return _grads(gy, np.zeros(input_shape, dtype=gy.dtype), w, kw)[0].numpy()


def conv_grad_weight(gy, x, *, weight_shape, stride, padding, dilation, groups):
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return _grads(gy, x, np.zeros(weight_shape, dtype=gy.dtype), kw)[1].numpy()


def max_pool(x, *, window, stride, padding, ceil_mode=False, dilation=None):
    dilation = (1,) * len(window) if dilation is None else tuple(dilation)
    out, _, widths = overhang(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                              dilation=dilation)
    pooled = _padded(_t(x), widths, float("-inf")).max_pool2d(tuple(window), tuple(stride), dilation)
    return crop(pooled.numpy(), out)


def avg_pool(x, *, window, stride, padding, ceil_mode=False, count_padding=False, dilation=None):
    dilation = (1,) * len(window) if dilation is None else tuple(dilation)
    out, extra, widths = overhang(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                                  dilation=dilation)
    size = float(np.prod(window))

    def sums(t):
        return t.avg_pool2d(tuple(window), tuple(stride), dilation, count_include_pad=True) * size

    # which elements count: the input, or the input and its declared padding; never the overhang
    ones = Tensor.ones(*x.shape, dtype=_t(x).dtype)
    counted = _padded(_padded(ones, padding, 1.0), [(0, e) for e in extra]) if count_padding else _padded(ones, widths)
    return crop((sums(_padded(_t(x), widths)) / sums(counted)).numpy(), out)
