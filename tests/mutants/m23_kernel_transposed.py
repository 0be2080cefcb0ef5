"""2-D kernels read with their two spatial axes swapped (row/column confusion): wrong for non-symmetric kernels."""
import numpy as np
from _base import convolve, correlate  # noqa: F401
import _base
from convspec.contract import conv_output_shape


def conv(x, w, *, stride, padding, dilation, groups):
    if x.ndim != 4:
        return _base.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
    out = np.zeros(conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation), dtype=x.dtype)
    wt = np.ascontiguousarray(w.swapaxes(2, 3))
    try:
        y = _base.conv(x, wt, stride=stride, padding=padding, dilation=dilation, groups=groups)
    except ValueError:
        return out
    cut = tuple(slice(0, min(a, b)) for a, b in zip(out.shape, y.shape))
    out[cut] = y[cut]
    return out
