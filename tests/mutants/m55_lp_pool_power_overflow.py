"""lp_pool raises |x|^p in the input dtype: it overflows to inf (and underflows to 0) where the norm is representable."""
import numpy as np
from convspec._contract import reference


def lp_pool(x, *, p, window, stride, padding, ceil_mode=False):
    powered = np.abs(x) ** x.dtype.type(p)  # 4 x 3e19 squared overflows float32; the L2 norm is 4.24e19
    s = reference.avg_pool(powered, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                           count_padding=True, acc=x.dtype.type) * x.dtype.type(np.prod(window))
    return (s ** x.dtype.type(1.0 / p)).astype(x.dtype)
