"""An integer conv takes w_zero_point[0] for every output channel: per-channel weight zero
points (one per output channel, as ONNX's ConvInteger allows) are read as a single one."""
import numpy as np
from convspec._contract import reference
from convspec._contract.functions import check_integer_conv_args

convspec_capabilities = {"accuracy": "direct", "ops": ["conv"], "dtypes": {"conv": ["int8", "uint8"]}}


def conv(x, w, *, stride, padding, dilation, groups, x_zero_point=0, w_zero_point=0):
    x, w, stride, padding, dilation, groups, zx, zw = check_integer_conv_args(
        x, w, stride, padding, dilation, groups, x_zero_point, w_zero_point)
    y = reference.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups, x_zero_point=zx,
                       w_zero_point=zw[0], acc=np.int64)
    return y.astype(np.int32)
