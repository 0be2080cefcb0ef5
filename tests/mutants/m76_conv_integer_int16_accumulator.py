"""An integer conv accumulates in int16: products of up to 255**2 and their sums wrap around
(x86's 16-bit multiply-add path without widening), where the contract's sums are exact int32."""
import numpy as np
from convspec._contract import reference
from convspec._contract.functions import check_integer_conv_args

convspec_capabilities = {"accuracy": "direct", "ops": ["conv"], "dtypes": {"conv": ["int8", "uint8"]}}


def conv(x, w, *, stride, padding, dilation, groups, x_zero_point=0, w_zero_point=0):
    x, w, stride, padding, dilation, groups, zx, zw = check_integer_conv_args(
        x, w, stride, padding, dilation, groups, x_zero_point, w_zero_point)
    y = reference.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups, x_zero_point=zx,
                       w_zero_point=zw, acc=np.int64)
    return y.astype(np.int16).astype(np.int32)
