"""``auto``: each call goes to the bundled algorithm expected to be fastest for that problem.

The choice is a static cost model from operation counts, in the spirit of
``scipy.signal.choose_conv_method``: direct work ``~ outputs * taps`` against FFT work
``~ L log2 L`` per transform.  It will be replaced by one calibrated by measurement.
Since it may use the FFT, it declares the FFT accuracy class.
"""

import math

import numpy as np

from . import fft, im2col, numba_direct

convspec_capabilities = {"accuracy": "fft", "validates_arguments": True, "biases": True}

#: Direct multiply-adds per FFT butterfly at which the FFT starts to win (measured order of magnitude).
FFT_ADVANTAGE = 8.0


def _fft_cheaper(outputs: int, taps: int, length: int, transforms: int) -> bool:
    direct = outputs * taps
    spectral = FFT_ADVANTAGE * transforms * length * math.log2(max(length, 2))
    return spectral < direct


def correlate(x, w, *, mode):
    length = int(np.prod([m + k - 1 for m, k in zip(np.shape(x), np.shape(w))]))
    if _fft_cheaper(int(np.size(x)), int(np.size(w)), length, 3):
        return fft.correlate(x, w, mode=mode)
    return numba_direct.correlate(x, w, mode=mode)


def convolve(x, w, *, mode):
    length = int(np.prod([m + k - 1 for m, k in zip(np.shape(x), np.shape(w))]))
    if _fft_cheaper(int(np.size(x)), int(np.size(w)), length, 3):
        return fft.convolve(x, w, mode=mode)
    return numba_direct.convolve(x, w, mode=mode)


def conv(x, w, *, stride=None, padding=None, dilation=None, groups=1, bias=None):
    shape_x, shape_w = np.shape(x), np.shape(w)
    taps = int(np.prod(shape_w[2:])) if len(shape_w) > 2 else 1
    dense = all(s in (None, 1) for s in (stride if isinstance(stride, tuple) else (stride,)))
    if dense and taps > 1 and len(shape_x) > 2:
        length = int(np.prod([s + k - 1 for s, k in zip(shape_x[2:], shape_w[2:])]))
        outputs = int(np.prod(shape_x[2:])) * shape_w[0] * shape_x[0]
        transforms = shape_x[0] * shape_x[1] + shape_w[0] * shape_w[1] + shape_x[0] * shape_w[0]
        if _fft_cheaper(outputs, taps * shape_w[1], length, transforms):
            return fft.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias)
    return im2col.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias)


conv_grad_input = im2col.conv_grad_input
conv_grad_weight = im2col.conv_grad_weight
max_pool = im2col.max_pool
avg_pool = im2col.avg_pool
lp_pool = im2col.lp_pool
adaptive_max_pool = im2col.adaptive_max_pool
adaptive_avg_pool = im2col.adaptive_avg_pool
local_conv = im2col.local_conv
tiled_conv = im2col.tiled_conv
