"""Threads for the bundled fast backends: a batch split over Python threads with the BLAS at one
thread (:func:`over_images`), a compiled pass split over ``NUMBA_NUM_THREADS`` threads
(:func:`in_threads`: spinning workers, :mod:`convspec.impls._spin_workers`, where the kernel
allows, else a Python pool), and the BLAS's thread count read through threadpoolctl."""

import ctypes
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from convspec.impls import _spin_workers as spin_workers

#: Elements a compiled pass must touch before it is split across threads.
THREADED_ELEMENTS = 1 << 18
_executor = {}
_workers = {}  # pool key -> the native thread ids of its threads so far
_apart = {}  # pool key -> (caller's CPU, threads) when its threads' CPUs were last set
_serial = threading.local()  # set in the threads of over_images: their passes are not split again
_blas = []  # the threadpoolctl controller, made on first use (after NumPy has loaded its BLAS)



def _pool(key, threads):
    """The thread pool kept under ``key`` (made on first use); its threads' native ids are
    kept in ``_workers[key]`` as they start."""
    pool = _executor.get(key)
    if pool is None:
        ids = _workers.setdefault(key, [])
        pool = _executor.setdefault(key, ThreadPoolExecutor(threads, initializer=lambda: ids.append(
            threading.get_native_id())))
    return pool


def _cpu_reader():
    """``() -> the CPU the calling thread runs on``, or None where it cannot be read or thread
    affinity cannot be set (not Linux)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    try:
        getcpu = ctypes.CDLL(None, use_errno=True).sched_getcpu
    except (OSError, AttributeError):
        return None
    getcpu.restype, getcpu.argtypes = ctypes.c_int, []
    return getcpu


_getcpu = _cpu_reader()


def _keep_apart(key):
    """Let the threads of pool ``key`` run on any of the process's CPUs but the calling
    thread's, set again only when that CPU (or the pool's threads) changed.

    A split pass wakes a pool thread and computes its own pieces at once.  Woken by the caller,
    the pool thread may be queued on the caller's CPU (Linux wakes a thread near its waker) and
    stay there: then the two threads take turns on one CPU and the split runs at one thread's
    speed.  On 2 vCPUs (AMD EPYC, a VM) that happened after GEMMs on OpenBLAS's two threads and
    lasted: a 3x3 pass on 64 channels of 56x56 took 0.57 ms split, then 0.9-1.0 in every later
    call, the pool thread computing seven pieces of eight on the caller's CPU while the caller
    waited.  Where the CPU cannot be read, or the process may run on one CPU only, nothing is
    set."""
    if _getcpu is None:
        return
    ids = _workers.get(key, ())
    cpu = _getcpu()
    if cpu < 0 or _apart.get(key) == (cpu, len(ids)):
        return
    allowed = os.sched_getaffinity(0) - {cpu}
    if allowed:
        for tid in ids:
            try:
                os.sched_setaffinity(tid, allowed)
            except OSError:  # the thread has ended, or the process may not move it
                pass
    _apart[key] = (cpu, len(ids))


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


#: How the first passes of a new size run, split or whole: once each not counted (compilation,
#: first touch, starting the pool's threads), then timed in A-B-B-A order; the faster way is
#: then kept for that size.
ORDER = (False, True, False, True, True, False)
UNCOUNTED = 2
_trials = {}  # (kernel, count, elements) -> [(split, seconds), ...] of the runs so far
_split = {}  # (kernel, count, elements) -> whether the pass is split, once decided


#: A split pass is cut into this many pieces per thread, and each thread, the calling one
#: included, takes the next piece left until none is: a thread that starts late (its core busy
#: with another library's spinning threads, or its virtual CPU woken from idle) leaves its share
#: to the others instead of holding the pass up by a whole half.
PIECES_PER_THREAD = 4


def _run(kernel, args, count, threads):
    """``kernel(*args, first, last)`` over ``range(count)`` whole, or cut into pieces that the
    calling thread and ``threads - 1`` workers take in turn: spinning ones that take them in
    compiled code (:mod:`convspec.impls._spin_workers`) where the kernel and its arguments
    allow, else the Python pool's; the call waits for every thread even if a piece fails."""
    if threads <= 1:
        kernel(*args, 0, count)
        return
    pieces = min(count, threads * PIECES_PER_THREAD)
    ready = spin_workers.prepared(kernel, args)
    if ready is not None:
        workers = spin_workers.pool(threads)
        key = ("spinning", threads - 1)
        _workers[key] = workers.ids
        _keep_apart(key)
        if spin_workers.run(workers, kernel, args, count, pieces, ready):
            return
    cuts = [count * i // pieces for i in range(pieces + 1)]
    taken = iter(range(pieces))
    lock = threading.Lock()

    def take():
        while True:
            with lock:
                i = next(taken, None)
            if i is None:
                return
            kernel(*args, cuts[i], cuts[i + 1])

    pool = _pool(threads - 1, threads - 1)
    _keep_apart(threads - 1)
    others = [pool.submit(take) for _ in range(threads - 1)]
    try:
        take()
    finally:
        for done in others:
            done.result()


@numba.njit(nogil=True, cache=True)
def _nothing(first, last):
    """The empty kernel :func:`handoff_seconds` times."""


#: A pass estimated to take at least this many hand-offs (:func:`handoff_seconds`) is split
#: without trials: the hand-off is then a tenth of it at most, and a trial run right after a
#: GEMM on several threads (OpenBLAS's idle threads spinning on the other core) would time the
#: split at half speed and keep the pass whole for good.  As a fixed 2 ms (ten hand-offs on the
#: AVX2 VM this was first measured on), it left an AVX-512 EPYC's 3x3 passes of 1.1 ms, whose
#: hand-off costs 0.05 ms, to trials that kept them whole: 1.09 ms where split they take 0.68
#: (64 channels of 56x56, two threads, medians of three runs each way).
SPLIT_ALWAYS_HANDOFFS = 10
_handoffs = {}  # threads -> seconds


def handoff_seconds(threads: int) -> float:
    """What handing a pass's pieces to ``threads - 1`` of the pool's threads and taking them back
    costs on this machine: the median of 21 split runs of an empty kernel, after three not
    counted (they start the threads), measured once per process and thread count."""
    if threads not in _handoffs:
        times = []
        for i in range(24):
            start = time.perf_counter()
            _run(_nothing, (), threads * PIECES_PER_THREAD, threads)
            if i >= 3:
                times.append(time.perf_counter() - start)
        _handoffs[threads] = float(np.median(times))
    return _handoffs[threads]


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity where the system tells it, else all."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def threads_here() -> int:
    """The threads :func:`in_threads` splits a pass over from this thread: ``NUMBA_NUM_THREADS``
    (Numba's default: every CPU of the machine), but no more than the CPUs the process may run
    on, and 1 in the threads of :func:`over_images`.  Held to one CPU (``taskset -c 0``) with
    Numba's default of two threads, split passes took turns on it: depthwise 144 channels of
    56x56 0.134 ms against 0.111 whole, 512 channels of 7x7 1.03 against 1.00."""
    if getattr(_serial, "on", False):
        return 1
    return max(1, min(numba.config.NUMBA_NUM_THREADS, usable_cpus()))


def in_threads(kernel, count, elements, *args, seconds=0.0):
    """``kernel(*args, first, last)`` over ``0 <= first < last <= count``, split into pieces
    that Numba's number of threads (``NUMBA_NUM_THREADS``; the kernels release the GIL) take
    in turn (:func:`_run`) when the pass
    touches at least :data:`THREADED_ELEMENTS` elements and splitting was faster here: the
    first passes of a size run both ways in :data:`ORDER`, timed, and the faster way is kept for
    that size.  A pass the caller estimates at ``seconds`` of at least
    :data:`SPLIT_ALWAYS_HANDOFFS` hand-offs here (:func:`handoff_seconds`) is split at once.
    Each output is computed by one range either way, so splitting never changes a result.

    Measured on 2 vCPUs (AMD EPYC, a VM), where handing a range to a thread and back costs
    0.1-0.2 ms: a stride-1 depthwise pass on 32 channels of 112x112 took 0.33 ms whole and
    0.42 ms split; one at stride 2 on 96 channels, 0.51 ms whole and 0.39 ms split.  (A rule
    by the hand-off's cost, as before, split the first: its second run, still cold, took
    1.3 ms; two split runs right after the pool's threads started chose whole for both.)"""
    threads = min(threads_here(), count)
    if threads <= 1 or elements < THREADED_ELEMENTS:
        kernel(*args, 0, count)
        return
    if seconds > 0 and seconds >= SPLIT_ALWAYS_HANDOFFS * handoff_seconds(threads):
        _run(kernel, args, count, threads)
        return
    key = (kernel, count, elements)
    split = _split.get(key)
    if split is not None:
        _run(kernel, args, count, threads if split else 1)
        return
    if key not in _trials and len(_trials) >= 10_000:  # sizes seen once or twice, never decided
        _trials.clear()
    runs = _trials.setdefault(key, [])
    split = ORDER[min(len(runs), len(ORDER) - 1)]
    start = time.perf_counter()
    _run(kernel, args, count, threads if split else 1)
    runs.append((split, time.perf_counter() - start))
    if len(runs) >= len(ORDER):  # (more when threads of the caller's raced here)
        best = {parts: min((seconds for p, seconds in runs[UNCOUNTED:] if p == parts), default=float("inf"))
                for parts in (False, True)}
        if len(_split) >= 10_000:
            _split.clear()
        _split[key] = best[True] < best[False]
        _trials.pop(key, None)
