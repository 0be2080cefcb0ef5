"""conv reads subnormal operands as zero (denormals-are-zero, as a fast-math build or
set_flush_denormal does) without declaring subnormals: "flush": 1e-39 * 1e30 = 1e-9 becomes 0."""
import numpy as np
from convspec._contract import reference

convspec_capabilities = {"accuracy": "direct", "ops": ["conv"]}


def _daz(a):
    tiny = np.finfo(a.dtype).tiny
    return np.where(np.abs(a) < tiny, np.zeros_like(a), a)


def conv(x, w, *, stride, padding, dilation, groups):
    return reference.conv(_daz(x), _daz(w), stride=stride, padding=padding, dilation=dilation,
                          groups=groups).astype(x.dtype)
