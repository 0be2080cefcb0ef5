"""A bfloat16 layer sums in float32 and makes bfloat16 by keeping the top 16 bits of each float32
result (cutting the low significand bits, a common shortcut) instead of rounding to nearest."""
import ml_dtypes
import numpy as np
from convspec._contract.functions import check_conv_args
from convspec.impls import naive

convspec_capabilities = {"accuracy": "direct", "ops": ["conv"], "dtypes": {"conv": ["bfloat16"]}}


def conv(x, w, *, stride, padding, dilation, groups):
    x, w, stride, padding, dilation, groups = check_conv_args(x, w, stride, padding, dilation, groups, low=True)
    if x.dtype.name != "bfloat16":
        raise ValueError(f"x.dtype={x.dtype}, but should be bfloat16")
    y32 = naive.conv(x.astype(np.float32), w.astype(np.float32), stride=stride, padding=padding, dilation=dilation,
                     groups=groups)
    cut = (np.ascontiguousarray(y32).view(np.uint32) & np.uint32(0xFFFF0000)).view(np.float32)
    return cut.astype(ml_dtypes.bfloat16)  # exact: cut already has bfloat16's bits
