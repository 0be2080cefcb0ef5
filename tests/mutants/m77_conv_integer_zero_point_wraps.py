"""An integer conv subtracts the zero point in the input's own 8-bit dtype: x - x_zero_point
wraps modulo 256 (uint8 5 - 10 gives 251) before it is widened."""
import numpy as np
from convspec._contract import reference
from convspec._contract.functions import check_integer_conv_args

convspec_capabilities = {"accuracy": "direct", "ops": ["conv"], "dtypes": {"conv": ["int8", "uint8"]}}


def conv(x, w, *, stride, padding, dilation, groups, x_zero_point=0, w_zero_point=0):
    x, w, stride, padding, dilation, groups, zx, zw = check_integer_conv_args(
        x, w, stride, padding, dilation, groups, x_zero_point, w_zero_point)
    shifted = (x.astype(np.int64) - zx).astype(x.dtype)  # the wrap of an 8-bit subtraction
    y = reference.conv(shifted, w, stride=stride, padding=padding, dilation=dilation, groups=groups,
                       w_zero_point=zw, acc=np.int64)
    return y.astype(np.int32)
