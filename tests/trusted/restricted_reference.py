"""convspec's reference with every restriction a library might have declared and enforced:
honest restrictions give no false alarm (their examples are declined, their cases raise)."""
import numpy as np

import convspec
from convspec._contract import reference

convspec_capabilities = {
    "accuracy": "direct", "biases": True, "ops": ["correlate", "conv", "conv_grad_input", "avg_pool", "lp_pool"],
    "restrictions": {"correlate": ["odd_kernels", "kernel_within_input"],
                     "conv": ["no_stride_with_dilation", "shared_bias_only"], "conv_grad_input": ["odd_kernels"],
                     "avg_pool": ["no_count_padding_in_ceil_mode"], "lp_pool": ["integer_p", "no_ceil_mode"]},
}


def _refuse(condition, why):
    if condition:
        raise convspec.Unsupported(why)


def correlate(x, w, *, mode):
    _refuse(any(k % 2 == 0 for k in w.shape), "odd kernels only")
    _refuse(any(k > m for k, m in zip(w.shape, x.shape)), "a kernel no longer than the input")
    return reference.correlate(x, w, mode=mode, acc=np.longdouble).astype(x.dtype)


def conv(x, w, *, stride, padding, dilation, groups, bias=None):
    _refuse(max(np.ravel(stride)) > 1 and max(np.ravel(dilation)) > 1, "no stride with dilation")
    _refuse(bias is not None and np.ndim(bias) > 1, "a shared bias only")
    return reference.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups,
                          bias=bias, acc=np.longdouble).astype(x.dtype)


def conv_grad_input(gy, w, **kw):
    _refuse(any(k % 2 == 0 for k in w.shape[2:]), "odd kernels only")
    return reference.conv_grad_input(gy, w, acc=np.longdouble, **kw).astype(gy.dtype)


def avg_pool(x, *, count_padding=False, ceil_mode=False, **kw):
    _refuse(count_padding and ceil_mode, "no count_padding in ceil mode")
    return reference.avg_pool(x, count_padding=count_padding, ceil_mode=ceil_mode, **kw, acc=np.longdouble).astype(x.dtype)


def lp_pool(x, *, p, ceil_mode=False, **kw):
    _refuse(p != int(p) or ceil_mode, "an integer p, no ceil mode")
    return reference.lp_pool(x, p=p, ceil_mode=ceil_mode, **kw, acc=np.longdouble).astype(x.dtype)
