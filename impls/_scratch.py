"""Work arrays reused across calls, per thread (results are never scratch), and the memory of
large results, reused once nothing refers to an earlier result."""

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


#: Results of at least this many bytes come from :func:`result`'s pool.  Fresh memory is zeroed
#: by the kernel page by page on first touch: a 3x3x3 layer with 51 MB of output (64 channels of
#: 16x112x112) took 16.8 ms by im2col into fresh memory and 13.2 into reused (one thread, AMD
#: EPYC, A-B-B-A in one process).  Below this, glibc's heap already reuses it.
RECYCLE_BYTES = 1 << 23
#: At most this many bytes of blocks wait in the pool; a block that would pass it is freed.
POOL_BYTES = 1 << 28
#: Bytes the pooled blocks are aligned to (a 512-bit vector).
ALIGN = 64
_pool: dict = {}  # bytes -> [uint8 blocks]


class _Pooled:
    """The owner of a pooled block behind a result: NumPy keeps it alive while any view of the
    result lives, and when the last one goes its block returns to the pool."""

    __slots__ = ("block",)

    def __init__(self, block):
        self.block = block

    @property
    def __array_interface__(self):
        return self.block.__array_interface__

    def __del__(self):
        try:
            free = _pool.setdefault(self.block.nbytes, [])
            if sum(b.nbytes for blocks in _pool.values() for b in blocks) + self.block.nbytes <= POOL_BYTES:
                free.append(self.block)
        except Exception:  # noqa: BLE001 (interpreter shutdown: nothing to keep)
            pass


def result(shape, dtype):
    """A new array for a result (its contents undefined), the caller's to keep: fresh memory
    below :data:`RECYCLE_BYTES`, else a block of an earlier result that nothing refers to any
    more, as a deployed runtime's arena would give (ONNX Runtime keeps its outputs' memory the
    same way).  Never scratch: a block returns to the pool only once every view of the result
    it held is gone."""
    shape, dtype = tuple(int(s) for s in shape), np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < RECYCLE_BYTES:
        return np.empty(shape, dtype=dtype)
    try:
        block = _pool.get(nbytes, []).pop()
    except IndexError:  # aligned to 64 bytes, so that whole vectors can be streamed into it
        raw = np.empty(nbytes + ALIGN, dtype=np.uint8)
        skip = -raw.ctypes.data % ALIGN
        block = raw[skip:skip + nbytes]
    return np.asarray(_Pooled(block)).view(dtype).reshape(shape)
