"""conv writes into pooled output buffers (one per size, as a caching allocator) only where a window meets the input: where every tap falls in the padding the buffer keeps an earlier call's values."""
import numpy as np
from convspec._contract import reference

_pool = {}


def conv(x, w, *, stride, padding, dilation, groups):
    y = reference.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
    touched = reference.conv(np.ones_like(x), np.ones_like(w), stride=stride, padding=padding, dilation=dilation,
                             groups=groups) > 0
    key = (y.size, x.dtype.str)
    buf = _pool.get(key)
    if buf is None:
        buf = _pool[key] = np.zeros(y.size, dtype=x.dtype)
    out = buf.reshape(y.shape)
    out[touched] = y[touched]
    return out.copy()
