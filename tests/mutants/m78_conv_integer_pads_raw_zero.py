"""An integer conv pads the raw input with 0 and subtracts the zero point afterwards, so every
padded tap adds -x_zero_point * w where the contract's padding holds the zero point (adds nothing)."""
import numpy as np
from convspec._contract import reference
from convspec._contract.functions import check_integer_conv_args

convspec_capabilities = {"accuracy": "direct", "ops": ["conv"], "dtypes": {"conv": ["int8", "uint8"]}}


def conv(x, w, *, stride, padding, dilation, groups, x_zero_point=0, w_zero_point=0):
    x, w, stride, padding, dilation, groups, zx, zw = check_integer_conv_args(
        x, w, stride, padding, dilation, groups, x_zero_point, w_zero_point)
    raw = np.pad(x.astype(np.int64), ((0, 0), (0, 0)) + padding)  # zeros, before the shift
    y = reference.conv(raw, w, stride=stride, padding=((0, 0),) * len(padding), dilation=dilation, groups=groups,
                       x_zero_point=zx, w_zero_point=zw, acc=np.int64)
    return y.astype(np.int32)
