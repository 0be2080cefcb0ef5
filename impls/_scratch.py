"""Work arrays reused across calls, per thread (results are never scratch)."""

import math
import threading

import numpy as np

_scratch = threading.local()


def scratch(name, shape, dtype):
    """A work array reused across calls in this thread (one per ``name``, its contents undefined).

    Fresh multi-megabyte arrays are page-faulted in on first touch, which costs as much as a
    small layer's arithmetic; results are never scratch, so callers still own their outputs.
    """
    shape = tuple(int(s) for s in shape)
    size, dtype = math.prod(shape), np.dtype(dtype)
    cache = _scratch.__dict__
    held = cache.get(name)
    if held is None or held.size < size or held.dtype != dtype:
        held = cache[name] = np.empty(size, dtype=dtype)  # grows, never shrinks: blocks of a call differ in size
    return held[:size].reshape(shape)
