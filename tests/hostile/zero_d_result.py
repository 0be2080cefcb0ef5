"""expect: fail -- squeezes its result: a (1,)-shaped answer comes back 0-d."""
import numpy as np

from _wrong import right_conv as conv, right_correlate  # noqa: F401


def correlate(x, w, *, mode):
    return np.squeeze(right_correlate(x, w, mode=mode))
