"""Ceil mode keeps a last window that starts in the after-padding (no PyTorch correction)."""
import numpy as np
from convspec._contract import reference


def max_pool(x, *, window, stride, padding, ceil_mode=False):
    if not ceil_mode:
        return reference.max_pool(x, window=window, stride=stride, padding=padding).astype(x.dtype)
    out = tuple(-(-(n + a + b - k) // s) + 1 for n, k, s, (a, b) in zip(x.shape[2:], window, stride, padding))
    extra = tuple(max(0, (o - 1) * s + k - (n + a + b)) for o, s, k, n, (a, b) in zip(out, stride, window, x.shape[2:], padding))
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((a, b + e) for (a, b), e in zip(padding, extra)), constant_values=-np.inf)
    y = reference.max_pool(xp, window=window, stride=stride, padding=((0, 0),) * (x.ndim - 2))
    return np.ascontiguousarray(y[(Ellipsis,) + tuple(slice(0, o) for o in out)], dtype=x.dtype)
