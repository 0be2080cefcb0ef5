"""PyTorch as a convspec backend: ``torch.nn.functional`` layers and pools, gradients by autograd.

Conventions translated, never results: asymmetric padding goes through ``F.pad`` (PyTorch's
own is symmetric, and for pooling at most half the window); the contract's ceil-mode rule
(the last window starts inside the input or its left padding) and its average divisor are
built from PyTorch's pooling kernels on explicitly padded input; ``lp_pool`` is PyTorch's own
``F.lp_poolNd`` on the padded input, ceil mode included.
"""
import numpy as np
import torch
import torch.nn.functional as F

from convspec._adapters._pooling import counted, crop, overhang

convspec_capabilities = {"ops": ["conv", "conv_grad_input", "conv_grad_weight", "max_pool", "avg_pool", "lp_pool",
                                 "adaptive_max_pool", "adaptive_avg_pool"], "biases": True,
                         # float16/bfloat16: the layer, its gradients and the max pools, PyTorch's own kernels (the
                         # average is composed by the adapter, which would round in the low dtype itself)
                         "dtypes": {**{op: ["float32", "float64", "float16", "bfloat16"] for op in
                                       ("conv", "conv_grad_input", "conv_grad_weight", "max_pool", "adaptive_max_pool")},
                                    "*": ["float32", "float64"]},
                         # the float16 weight gradient is not a float32 sum rounded once (-583 where that gives
                         # -582.5 for an exact -582.655): the gradients are held to the storage-precision bound
                         "accumulate": {"conv_grad_input": "storage", "conv_grad_weight": "storage", "*": "float32"},
                        # the adapter pads explicitly (PyTorch's own limit, half the window, is a convention)
                        "features": {"max_pool": ["pool_dilation", "pool_padding_to_window"],
                                     "avg_pool": ["pool_padding_to_window"], "lp_pool": ["pool_padding_to_window"]}}


def _t(a):
    a = np.ascontiguousarray(a)
    if a.dtype.name == "bfloat16":  # ml_dtypes' bfloat16 has torch.bfloat16's bits
        return torch.from_numpy(a.view(np.uint16)).view(torch.bfloat16)
    return torch.from_numpy(a)


def _np(t):
    """A tensor as a NumPy array (bfloat16 as ml_dtypes' bfloat16, bit for bit)."""
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        import ml_dtypes

        return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return t.numpy()


def _pads(padding):
    return [p for pair in reversed(padding) for p in pair]  # F.pad wants the last axis first


def _conv(xt, wt, stride, padding, dilation, groups):
    fn = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}[xt.ndim]
    return fn(F.pad(xt, _pads(padding)), wt, stride=stride, dilation=dilation, groups=groups)


def conv(x, w, *, stride, padding, dilation, groups, bias=None):
    with torch.no_grad():
        y = _conv(_t(x), _t(w), stride, padding, dilation, groups)
        if bias is not None:
            b = _t(bias)
            y = y + b.reshape(b.shape + (1,) * (y.ndim - 1 - b.ndim))
    return _np(y)


def _grads(gy, x, w, kw):
    xt = _t(x).requires_grad_(True)
    wt = _t(w).requires_grad_(True)
    _conv(xt, wt, **kw).backward(_t(gy))
    return _np(xt.grad), _np(wt.grad)


def conv_grad_input(gy, w, *, input_shape, stride, padding, dilation, groups):
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return _grads(gy, np.zeros(input_shape, dtype=gy.dtype), w, kw)[0]


def conv_grad_weight(gy, x, *, weight_shape, stride, padding, dilation, groups):
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return _grads(gy, x, np.zeros(weight_shape, dtype=gy.dtype), kw)[1]


def _padded(x, window, stride, padding, ceil_mode, fill, dilation=None):
    """x padded by the declared padding and the ceil-mode overhang, and the output shape."""
    out, _, widths = overhang(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                              dilation=dilation)
    return F.pad(_t(x), _pads(widths), value=fill), out


def _sums(xt, window, stride):
    fn = {3: F.avg_pool1d, 4: F.avg_pool2d, 5: F.avg_pool3d}[xt.ndim]
    return fn(xt, window, stride) * float(np.prod(window))


def max_pool(x, *, window, stride, padding, ceil_mode=False, dilation=None):
    dilation = (1,) * len(window) if dilation is None else tuple(dilation)
    xt, out = _padded(x, window, stride, padding, ceil_mode, float("-inf"), dilation)
    fn = {3: F.max_pool1d, 4: F.max_pool2d, 5: F.max_pool3d}[x.ndim]
    return crop(_np(fn(xt, window, stride, dilation=dilation)), out)


def avg_pool(x, *, window, stride, padding, ceil_mode=False, count_padding=False):
    xt, out = _padded(x, window, stride, padding, ceil_mode, 0.0)
    extra = [t - (n + a + b) for t, n, (a, b) in zip(xt.shape[2:], x.shape[2:], padding)]
    mask = _t(counted(x.shape, padding, extra, count_padding, x.dtype))
    return crop(_sums(xt, window, stride) / _sums(mask, window, stride), out).astype(x.dtype)


def lp_pool(x, *, p, window, stride, padding, ceil_mode=False):
    """PyTorch's own ``lp_poolNd`` on |x|: PyTorch documents the pool as (sum x^p)^(1/p), without
    the absolute value the contract's norm takes, so the input is given as |x| (a convention,
    translated).  Zero padding is added first (|0|^p adds nothing); PyTorch may start one more
    ceil-mode window in the right padding than the contract, which is cropped."""
    fn = {3: F.lp_pool1d, 4: F.lp_pool2d, 5: F.lp_pool3d}[x.ndim]
    out = overhang(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode)[0]
    if x.ndim == 3:  # lp_pool1d takes plain integers
        window, stride = window[0], stride[0]
    return crop(fn(F.pad(_t(np.abs(x)), _pads(padding)), float(p), window, stride, ceil_mode=ceil_mode), out)


def adaptive_max_pool(x, *, output_size):
    fn = {3: F.adaptive_max_pool1d, 4: F.adaptive_max_pool2d, 5: F.adaptive_max_pool3d}[x.ndim]
    return _np(fn(_t(x), output_size))


def adaptive_avg_pool(x, *, output_size):
    fn = {3: F.adaptive_avg_pool1d, 4: F.adaptive_avg_pool2d, 5: F.adaptive_avg_pool3d}[x.ndim]
    return fn(_t(x), output_size).numpy()
