"""Threads for the bundled fast backends: a batch split over Python threads with the BLAS at one
thread (:func:`over_images`), a compiled pass split over Numba's threads (:func:`in_threads`),
and the BLAS's thread count read through threadpoolctl."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: Elements a compiled pass must touch before it is split across threads.
THREADED_ELEMENTS = 1 << 18
_executor = {}
_serial = threading.local()  # set in the threads of over_images: their passes are not split again
_blas = []  # the threadpoolctl controller, made on first use (after NumPy has loaded its BLAS)



def _pool(key, threads):
    """The thread pool kept under ``key`` (made on first use)."""
    return _executor.get(key) or _executor.setdefault(key, ThreadPoolExecutor(threads))


def _controller():
    if not _blas:
        try:
            from threadpoolctl import ThreadpoolController

            _blas.append(ThreadpoolController())
        except ImportError:  # cannot tell or set the BLAS's threads: nothing is split
            _blas.append(None)
    return _blas[0]


def blas_threads() -> int:
    """The thread count of the BLAS that NumPy calls (1 when threadpoolctl cannot tell)."""
    controller = _controller()
    if controller is None:
        return 1
    counts = [lib.num_threads for lib in controller.lib_controllers if lib.user_api == "blas"]
    return max(counts, default=1)


def over_images(fn, threads, x, *args, **kwargs):
    """``fn(x, *args, **kwargs)`` as ``threads`` calls on consecutive blocks of the batch, run at
    once on Python threads with the BLAS at one thread and compiled passes unsplit (``fn``'s
    GEMMs and transforms release the GIL).  Splitting the work inside one call instead (BLAS
    threads for the GEMMs, Numba's for the transforms) leaves the BLAS's idle threads spinning
    on the cores the transforms need: a batch of 8 on 64 channels of 56x56 took 13-17 ms on two
    threads, as on one; by halves of the batch, 10.7.  Outputs are joined along the batch."""
    controller = _controller()
    parts = min(threads, x.shape[0])
    if controller is None or parts <= 1:
        return fn(x, *args, **kwargs)
    pool = _pool(("images", parts), parts)
    cuts = [x.shape[0] * i // parts for i in range(parts + 1)]

    def part(a, b):
        _serial.on = True
        try:
            return fn(x[a:b], *args, **kwargs)
        finally:
            _serial.on = False

    with controller.limit(limits=1, user_api="blas"):
        blocks = [done.result() for done in [pool.submit(part, a, b) for a, b in zip(cuts, cuts[1:])]]
    return np.concatenate(blocks)


def in_threads(kernel, count, elements, *args):
    """``kernel(*args, first, last)`` over ``0 <= first < last <= count``, split into one
    range per Numba thread (``NUMBA_NUM_THREADS``; the kernels release the GIL) when the pass
    touches at least :data:`THREADED_ELEMENTS` elements, else in one call."""
    import numba

    threads = 1 if getattr(_serial, "on", False) else min(numba.config.NUMBA_NUM_THREADS, count)
    if threads <= 1 or elements < THREADED_ELEMENTS:
        kernel(*args, 0, count)
        return
    pool = _pool(threads, threads)
    cuts = [count * i // threads for i in range(threads + 1)]
    for done in [pool.submit(kernel, *args, a, b) for a, b in zip(cuts, cuts[1:])]:
        done.result()
