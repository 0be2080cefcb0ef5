"""avg_pool divides by the whole window even when count_padding=False."""
from convspec._contract import reference


def avg_pool(x, *, window, stride, padding, ceil_mode=False, count_padding=False):
    return reference.avg_pool(x, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                              count_padding=True).astype(x.dtype)
