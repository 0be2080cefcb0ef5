"""Integer max pooling pads with 0 instead of a value that never wins: an int8 window of
negative values next to the padding pools to 0."""
import numpy as np
from convspec._contract import reference

convspec_capabilities = {"accuracy": "direct", "ops": ["max_pool"], "dtypes": {"max_pool": ["int8", "uint8"]}}


def max_pool(x, *, window, stride, padding, ceil_mode=False):
    if x.dtype not in (np.int8, np.uint8):
        raise ValueError(f"x.dtype={x.dtype}, but should be int8 or uint8")
    nd = x.ndim - 2
    padded = np.pad(x, ((0, 0), (0, 0)) + tuple(padding))  # zeros: they can win
    y = reference.max_pool(padded, window=window, stride=stride, padding=((0, 0),) * nd, ceil_mode=ceil_mode)
    return y[(slice(None), slice(None)) + tuple(slice(0, o) for o in reference.max_pool(
        x, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode).shape[2:])].astype(x.dtype)
