"""A float32 layer reads its inputs as TF32 (10-bit significands, as tensor cores do) without
declaring products='tf32': each product carries up to 2**-10 relative error, thousands of times
the float32 bound."""
import numpy as np
from convspec._contract.arithmetic import round_tf32
from convspec.impls import naive

convspec_capabilities = {"accuracy": "direct", "ops": ["conv"], "dtypes": ["float32"]}


def conv(x, w, *, stride, padding, dilation, groups):
    if x.dtype != np.float32 or w.dtype != np.float32:
        raise ValueError(f"x.dtype={x.dtype}, but should be float32")
    return naive.conv(round_tf32(x), round_tf32(w), stride=stride, padding=padding, dilation=dilation, groups=groups)
