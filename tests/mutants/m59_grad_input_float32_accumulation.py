"""conv_grad_input accumulates float64 inputs in float32 and casts back."""
import numpy as np
from convspec._contract import reference


def conv_grad_input(gy, w, **kw):
    return reference.conv_grad_input(gy, w, acc=np.float32, **kw).astype(gy.dtype)
