"""The same denormals-are-zero conv as mutant m93, declared: subnormals "flush" (as XLA and
TensorFlow run): held to the flushed definition, no false alarm."""
import numpy as np
from convspec._contract import reference

convspec_capabilities = {"accuracy": "direct", "ops": ["conv"], "subnormals": "flush"}


def _daz(a):
    tiny = np.finfo(a.dtype).tiny
    return np.where(np.abs(a) < tiny, np.zeros_like(a), a)


def conv(x, w, *, stride, padding, dilation, groups):
    return reference.conv(_daz(x), _daz(w), stride=stride, padding=padding, dilation=dilation,
                          groups=groups).astype(x.dtype)
