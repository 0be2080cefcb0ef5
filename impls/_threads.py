"""Threads for the bundled fast backends: a batch split over Python threads with the BLAS at one
thread (:func:`over_images`), a compiled pass split over Numba's threads (:func:`in_threads`),
and the BLAS's thread count read through threadpoolctl."""

import threading
import time
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


#: A pass is split when it took at least this many times the pool's hand-off (handing each
#: thread its range and joining them), measured on this machine: the split saves at most half
#: the pass, less one hand-off.
SPLIT_WORTH = 3.0
_handoff = {}  # threads -> seconds of one hand-off, measured at first use
_unsplit = {}  # (kernel, count, elements) -> seconds of the pass run unsplit (its first two runs)


def _noop():
    return None


def handoff_seconds(threads: int) -> float:
    """The least of five measured hand-offs of empty tasks to ``threads`` pool threads and back
    (on a 2-vCPU virtual machine: 0.1-0.2 ms, as long as a 32-channel 112x112 depthwise layer's
    whole pass; on a workstation, tens of microseconds)."""
    if threads not in _handoff:
        pool, best = _pool(threads, threads), float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for done in [pool.submit(_noop) for _ in range(threads)]:
                done.result()
            best = min(best, time.perf_counter() - start)
        _handoff[threads] = best
    return _handoff[threads]


def in_threads(kernel, count, elements, *args):
    """``kernel(*args, first, last)`` over ``0 <= first < last <= count``, split into one
    range per Numba thread (``NUMBA_NUM_THREADS``; the kernels release the GIL) when the pass
    touches at least :data:`THREADED_ELEMENTS` elements and is worth it on this machine: the
    first two passes of a size run unsplit and timed, and later ones are split when the faster
    took :data:`SPLIT_WORTH` hand-offs (:func:`handoff_seconds`) or more.  Each output is
    computed by one range either way, so splitting never changes a result.

    Measured on 2 vCPUs (AMD EPYC, a VM): a stride-1 depthwise pass on 32 channels of 112x112
    took 0.30 ms unsplit and 0.26-0.42 ms split; ten of them in a row, 2.9 against 1.8 ms."""
    import numba

    threads = 1 if getattr(_serial, "on", False) else min(numba.config.NUMBA_NUM_THREADS, count)
    if threads <= 1 or elements < THREADED_ELEMENTS:
        kernel(*args, 0, count)
        return
    key = (kernel, count, elements)
    runs = _unsplit.get(key, ())
    if len(runs) < 2:
        start = time.perf_counter()
        kernel(*args, 0, count)
        if len(_unsplit) >= 10_000:
            _unsplit.clear()
        _unsplit[key] = runs + (time.perf_counter() - start,)
        return
    if min(runs) < SPLIT_WORTH * handoff_seconds(threads):
        kernel(*args, 0, count)
        return
    pool = _pool(threads, threads)
    cuts = [count * i // threads for i in range(threads + 1)]
    for done in [pool.submit(kernel, *args, a, b) for a, b in zip(cuts, cuts[1:])]:
        done.result()
