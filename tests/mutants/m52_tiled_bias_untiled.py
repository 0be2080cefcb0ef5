"""tiled_conv adds bias tile 0 everywhere instead of cycling the bias with the kernels."""
from convspec._contract import reference

convspec_capabilities = {"biases": True}


def tiled_conv(x, w, *, stride, padding, bias=None):
    y = reference.tiled_conv(x, w, stride=stride, padding=padding)
    if bias is not None:
        y = y + bias[(slice(None),) + (0,) * (x.ndim - 2) + (None,) * (x.ndim - 2)]
    return y.astype(x.dtype)
