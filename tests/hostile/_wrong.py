"""Shared by the hostile corpus: a plausible but wrong correlate/conv (off by one tap)."""
import numpy as np

from convspec._contract import reference


def correlate(x, w, *, mode):
    y = reference.correlate(x, w, mode=mode).astype(x.dtype)
    if y.size:
        y.flat[0] += 1
    return y


def conv(x, w, *, stride, padding, dilation, groups):
    y = reference.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups).astype(x.dtype)
    if y.size:
        y.flat[0] += 1
    return y


def right_correlate(x, w, *, mode):
    return reference.correlate(x, w, mode=mode).astype(x.dtype)


def right_conv(x, w, *, stride, padding, dilation, groups):
    return reference.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups).astype(x.dtype)
