"""avg_pool ignores count_padding=True and divides by the input elements only."""
from convspec._contract import reference


def avg_pool(x, *, window, stride, padding, ceil_mode=False, count_padding=False):
    return reference.avg_pool(x, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                              count_padding=False).astype(x.dtype)
