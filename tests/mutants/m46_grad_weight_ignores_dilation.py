"""conv_grad_weight reads taps at j instead of j * dilation."""
from convspec._contract import reference


def conv_grad_weight(gy, x, *, weight_shape, stride, padding, dilation, groups):
    return reference.conv_grad_weight(gy, x, weight_shape=weight_shape, stride=stride, padding=padding,
                                      dilation=(1,) * len(dilation), groups=groups).astype(gy.dtype)
