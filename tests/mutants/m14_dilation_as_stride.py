"""Dilation and stride swapped when both are given (the output size is right when they are equal)."""
from _base import convolve, correlate, fitted  # noqa: F401
import _base
from convspec._contract.functions import conv_output_shape


def conv(x, w, *, stride, padding, dilation, groups):
    out = conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation)
    return fitted(lambda: _base.conv(x, w, stride=dilation, padding=padding, dilation=stride, groups=groups), out, x.dtype)
