"""max_pool starts each window at the lowest finite value instead of -inf: a dilated window that
holds padding only gives -3.4e38 (float32) where the definition gives -inf."""
import numpy as np
from convspec._contract import reference

convspec_capabilities = {"accuracy": "direct", "ops": ["max_pool"],
                         "features": ["pool_dilation", "pool_padding_to_window"]}


def max_pool(x, *, window, stride, padding, ceil_mode=False, dilation=None):
    y = reference.max_pool(x, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode, dilation=dilation)
    return np.where(y == -np.inf, np.finfo(x.dtype).min, y).astype(x.dtype)
