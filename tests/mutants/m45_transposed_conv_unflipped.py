"""conv_grad_input computed as a correlation of the upsampled gradient with the kernel (the flip forgotten)."""
import numpy as np
from convspec._contract import reference


def conv_grad_input(gy, w, *, input_shape, stride, padding, dilation, groups):
    flipped = np.ascontiguousarray(w[(slice(None), slice(None)) + (slice(None, None, -1),) * (w.ndim - 2)])
    return reference.conv_grad_input(gy, flipped, input_shape=input_shape, stride=stride, padding=padding,
                                     dilation=dilation, groups=groups).astype(gy.dtype)
