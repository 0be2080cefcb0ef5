"""A float32 layer with TF32 products that declares them (products='tf32'): held to the TF32
bound, it passes (the same arithmetic as mutant m84, declared)."""
import numpy as np
from convspec._contract.arithmetic import round_tf32
from convspec.impls import naive

convspec_capabilities = {"accuracy": "direct", "ops": ["conv"], "dtypes": ["float32"], "products": "tf32"}


def conv(x, w, *, stride, padding, dilation, groups):
    if x.dtype != np.float32 or w.dtype != np.float32:
        raise ValueError(f"x.dtype={x.dtype}, but should be float32")
    return naive.conv(round_tf32(x), round_tf32(w), stride=stride, padding=padding, dilation=dilation, groups=groups)
