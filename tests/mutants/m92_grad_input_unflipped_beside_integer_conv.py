"""conv_grad_input correlates with the kernel unflipped, in a backend whose conv takes integer
data only: the properties relating the two must take conv from the reference for float data,
and still catch the gradient."""
import numpy as np
from convspec._contract import reference

convspec_capabilities = {"accuracy": "direct", "ops": ["conv", "conv_grad_input"],
                         "dtypes": {"conv": ["int8", "uint8"], "conv_grad_input": ["float32", "float64"]}}


def conv(x, w, *, stride, padding, dilation, groups, x_zero_point=0, w_zero_point=0):
    if x.dtype.kind not in "iu":
        raise TypeError(f"conv supports int8 and uint8, not {x.dtype}")
    return reference.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups,
                          x_zero_point=x_zero_point, w_zero_point=w_zero_point).astype(np.int32)


def conv_grad_input(gy, w, *, input_shape, stride, padding, dilation, groups):
    flipped = np.ascontiguousarray(w[(slice(None), slice(None)) + (slice(None, None, -1),) * (w.ndim - 2)])
    return reference.conv_grad_input(gy, flipped, input_shape=input_shape, stride=stride, padding=padding,
                                     dilation=dilation, groups=groups).astype(gy.dtype)
