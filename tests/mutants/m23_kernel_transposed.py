"""2-D kernels read with their two spatial axes swapped (row/column confusion): wrong for non-symmetric kernels."""
import numpy as np
from _base import convolve, correlate, fitted  # noqa: F401
import _base
from convspec._contract.functions import conv_output_shape


def conv(x, w, *, stride, padding, dilation, groups):
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    if x.ndim != 4:
        return _base.conv(x, w, **kw)
    wt = np.ascontiguousarray(w.swapaxes(2, 3))
    return fitted(lambda: _base.conv(x, wt, **kw), conv_output_shape(x.shape, w.shape, **kw), x.dtype)
