"""expect: fail -- correct answers, but keeps 256 MiB more on every call (a leak): under
--memory-limit 1G it runs out, and the message says which limit it met."""
import numpy as np

from _wrong import right_conv, right_correlate

_kept = []


def correlate(x, w, *, mode):
    _kept.append(np.ones(1 << 25))  # 256 MiB, touched
    return right_correlate(x, w, mode=mode)


def conv(x, w, **kw):
    _kept.append(np.ones(1 << 25))
    return right_conv(x, w, **kw)
