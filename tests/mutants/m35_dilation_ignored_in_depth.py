"""Dilation honoured on the last spatial axis only; output zero-filled or cut to the expected size."""
from _base import convolve, correlate, fitted  # noqa: F401
import _base
from convspec._contract.functions import conv_output_shape


def conv(x, w, *, stride, padding, dilation, groups):
    out = conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation)
    last_only = (1,) * (len(dilation) - 1) + tuple(dilation[-1:])
    return fitted(lambda: _base.conv(x, w, stride=stride, padding=padding, dilation=last_only, groups=groups), out, x.dtype)
