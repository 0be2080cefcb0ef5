"""A float16 layer sums in float32 but converts the result to float16 by truncation (toward
zero) instead of rounding to nearest: up to a whole float16 spacing off, twice the final
rounding the bound allows."""
import numpy as np
from convspec._contract.functions import check_conv_args
from convspec.impls import naive

convspec_capabilities = {"accuracy": "direct", "ops": ["conv"], "dtypes": {"conv": ["float16"]}}


def conv(x, w, *, stride, padding, dilation, groups):
    x, w, stride, padding, dilation, groups = check_conv_args(x, w, stride, padding, dilation, groups, low=True)
    if x.dtype != np.float16:
        raise ValueError(f"x.dtype={x.dtype}, but should be float16")
    y32 = naive.conv(x.astype(np.float32), w.astype(np.float32), stride=stride, padding=padding, dilation=dilation,
                     groups=groups)
    y = y32.astype(np.float16)
    beyond = np.abs(y.astype(np.float32)) > np.abs(y32)  # rounded away from zero: step back toward it
    return np.where(beyond, np.nextafter(y, np.float16(0)), y)
