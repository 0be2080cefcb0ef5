"""conv_grad_weight reads input group o % groups when groups > 1 and stride > 1 (a strided-path indexing slip)."""
import numpy as np
from convspec._contract import reference


def conv_grad_weight(gy, x, *, weight_shape, stride, padding, dilation, groups):
    if groups == 1 or all(s == 1 for s in stride):
        return reference.conv_grad_weight(gy, x, weight_shape=weight_shape, stride=stride, padding=padding,
                                          dilation=dilation, groups=groups).astype(gy.dtype)
    c_group = weight_shape[1]
    parts = []
    for o in range(weight_shape[0]):
        g = o % groups
        parts.append(reference.conv_grad_weight(gy[:, o:o + 1], x[:, g * c_group:(g + 1) * c_group], weight_shape=(1,) + tuple(weight_shape[1:]),
                                                stride=stride, padding=padding, dilation=dilation, groups=1))
    return np.concatenate(parts).astype(gy.dtype)
