"""Padding made symmetric with the 'before' value, output cut or zero-filled to the expected size."""
from _base import convolve, correlate, fitted  # noqa: F401
import _base
from convspec._contract.functions import conv_output_shape


def conv(x, w, *, stride, padding, dilation, groups):
    out = conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation)
    symmetric = tuple((a, a) for a, _ in padding)
    return fitted(lambda: _base.conv(x, w, stride=stride, padding=symmetric, dilation=dilation, groups=groups), out, x.dtype)
