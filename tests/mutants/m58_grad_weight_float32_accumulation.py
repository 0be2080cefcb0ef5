"""conv_grad_weight accumulates float64 inputs in float32 and casts back (a mixed-precision training shortcut)."""
import numpy as np
from convspec._contract import reference


def conv_grad_weight(gy, x, **kw):
    return reference.conv_grad_weight(gy, x, acc=np.float32, **kw).astype(x.dtype)
