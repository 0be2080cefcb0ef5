"""conv returns the previous result of the same shape when every tap falls in the padding (a recycled output buffer never written): the failure depends on an earlier call."""
from convspec._contract import reference

_last = {}


def conv(x, w, *, stride, padding, dilation, groups):
    y = reference.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups).astype(x.dtype)
    key = (y.shape, y.dtype.str)
    if not y.any() and key in _last:
        return _last[key].copy()
    _last[key] = y.copy()
    return y
