"""An int8/uint8 max pool that pools in float64 with -inf padding and casts back: a window of
padding only comes back as 0 (the cast of -inf), not the dtype's least value."""
import numpy as np
from convspec._contract import reference

convspec_capabilities = {"accuracy": "direct", "ops": ["max_pool"], "dtypes": {"max_pool": ["int8", "uint8"]},
                         "features": {"max_pool": ["pool_dilation"]}}


def max_pool(x, *, window, stride, padding, ceil_mode=False, dilation=None):
    if x.dtype.kind not in "iu":
        raise TypeError(f"max_pool supports int8 and uint8, not {x.dtype}")
    y = reference.max_pool(x.astype(np.float64), window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                           dilation=dilation)
    return np.where(np.isfinite(y), y, 0).astype(x.dtype)
