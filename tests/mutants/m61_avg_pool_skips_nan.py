"""avg_pool counts NaN as zero (a masked sum): a window holding NaN gets a finite average."""
import numpy as np
from convspec._contract import reference


def avg_pool(x, *, window, stride, padding, ceil_mode=False, count_padding=False):
    masked = np.where(np.isnan(x), 0, x)
    return reference.avg_pool(masked, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                              count_padding=count_padding).astype(x.dtype)
