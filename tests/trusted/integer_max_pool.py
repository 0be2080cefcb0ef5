"""A correct max pool for int8 and uint8 only, with dilation (a quantised network's pooling):
the control of the integer max-pool mutants, checked by every max-pool property that applies
to integers."""
import numpy as np

from convspec._contract import reference

convspec_capabilities = {"accuracy": "direct", "ops": ["max_pool"], "dtypes": {"max_pool": ["int8", "uint8"]},
                         "features": {"max_pool": ["pool_dilation"]}}


def max_pool(x, *, window, stride, padding, ceil_mode=False, dilation=None):
    if x.dtype.kind not in "iu":
        raise TypeError(f"max_pool supports int8 and uint8, not {x.dtype}")
    return reference.max_pool(x, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                              dilation=dilation).astype(x.dtype)
