"""conv_grad_input indexes its bias within each group (channel c of group g gets bias[c] instead
of bias[g * C_group + c]), as a grouped transposed convolution written per group can."""
import numpy as np
from convspec._contract import reference

convspec_capabilities = {"accuracy": "direct", "ops": ["conv_grad_input"], "features": ["grad_input_bias"]}


def conv_grad_input(gy, w, *, input_shape, stride, padding, dilation, groups, bias=None):
    dx = reference.conv_grad_input(gy, w, input_shape=input_shape, stride=stride, padding=padding, dilation=dilation,
                                   groups=groups)
    if bias is not None:
        c_group = w.shape[1]
        local = np.tile(np.asarray(bias)[:c_group], groups)
        dx = dx + local.reshape((1, -1) + (1,) * (dx.ndim - 2))
    return dx.astype(gy.dtype)
