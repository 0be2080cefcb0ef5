"""avg_pool accumulates float64 inputs in float32 and casts back: right dtype, wrong accuracy."""
import numpy as np
from convspec._contract import reference


def avg_pool(x, *, window, stride, padding, ceil_mode=False, count_padding=False):
    return reference.avg_pool(x, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                              count_padding=count_padding, acc=np.float32).astype(x.dtype)
