"""lp_pool scales each window by its largest magnitude without care for infinity: inf / inf gives NaN where the norm is inf."""
import numpy as np
from convspec._contract import reference


def lp_pool(x, *, p, window, stride, padding, ceil_mode=False):
    kw = dict(window=window, stride=stride, padding=padding, ceil_mode=ceil_mode)
    a = np.abs(x.astype(np.float64))
    top = reference.max_pool(a, **kw)  # the largest magnitude of each window
    out = np.empty(top.shape)
    for idx in np.ndindex(*top.shape):
        scale = top[idx] if top[idx] > 0 else 1.0  # inf is kept as a scale: inf / inf is NaN
        n = idx[0], idx[1]
        scaled = reference.lp_pool(a[n[0]:n[0] + 1, n[1]:n[1] + 1] / scale, p=p, **kw)
        out[idx] = scaled[(0, 0) + idx[2:]] * scale
    return out.astype(x.dtype)
