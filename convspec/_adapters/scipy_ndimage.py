"""``scipy.ndimage`` filters as max and average pooling.

``maximum_filter`` (``cval=-inf``) and ``uniform_filter`` (``cval=0``) summarise every window
on the padded grid; pooling keeps every stride-th (ndimage centres windows at k // 2, so the
origin shifts them to start at each position).  The average's divisor is the same filter on
a mask of the elements that count.  ``maximum_filter`` skips NaN, which the contract does
not, so windows holding NaN are set to NaN afterwards: a documented convention of ndimage,
translated, not a fix of a wrong value.
"""
import numpy as np
import scipy.ndimage as ndi

from convspec._adapters._pooling import overhang

# uniform_filter keeps a running sum (not direct summation): its error is bounded only
# normwise, and a NaN it meets stays in the sum for the rest of the line
convspec_capabilities = {"ops": ["max_pool", "avg_pool"], "accuracy": "normwise"}


def _pooled(fn, x, window, stride, padding, ceil_mode, fill, pad_fill=None):
    """``fn`` over every window, sampled at the pooling outputs.  The declared padding holds
    ``pad_fill`` (default ``fill``), the ceil-mode overhang ``fill``."""
    out, extra, _ = overhang(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode)
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0)) + tuple(padding), constant_values=fill if pad_fill is None else pad_fill)
    xp = np.pad(xp, ((0, 0), (0, 0)) + tuple((0, e) for e in extra), constant_values=fill)
    origin = (0, 0) + tuple(-(k // 2) for k in window)  # the window starts at the output position
    full = fn(xp, size=(1, 1) + tuple(window), mode="constant", cval=fill, origin=origin)
    return full[(slice(None), slice(None)) + tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out[2:], stride))]


def max_pool(x, *, window, stride, padding, ceil_mode=False):
    y = _pooled(ndi.maximum_filter, x, window, stride, padding, ceil_mode, -np.inf)
    holds_nan = _pooled(ndi.maximum_filter, np.isnan(x).astype(np.float64), window, stride, padding, ceil_mode, 0.0) > 0
    return np.where(holds_nan, np.nan, y).astype(x.dtype)


def avg_pool(x, *, window, stride, padding, ceil_mode=False, count_padding=False):
    sums = _pooled(ndi.uniform_filter, x, window, stride, padding, ceil_mode, 0.0)
    counts = _pooled(ndi.uniform_filter, np.ones((1, 1) + x.shape[2:]), window, stride, padding, ceil_mode, 0.0,
                     pad_fill=1.0 if count_padding else 0.0)
    return (sums / counts).astype(x.dtype)
