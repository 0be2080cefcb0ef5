"""The spinning workers that take a split pass's pieces in compiled code
(:mod:`convspec.impls._spin_workers`): every piece runs once, on more than one thread, a
sleeping worker is woken, a worker that arrives late takes nothing of a pass that moved on, a
kernel's error reaches the caller, a forked child gets workers of its own, and what cannot run
there runs on the Python pool."""

import os
import sys

import numba
import numpy as np
import pytest
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from convspec.impls import _spin_workers as spin, _threads


@intrinsic
def _thread_id(typingctx):
    """The calling thread's ``pthread_self()``."""
    def codegen(context, builder, sig, args):
        fn = numba.core.cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(64), []),
                                                       "pthread_self")
        return builder.call(fn, [])

    return types.int64(), codegen


@numba.njit(nogil=True)
def _count(counts, first, last):
    for i in range(first, last):
        counts[i] += 1


@numba.njit(nogil=True)
def _meet(flags, ids, first, last):
    """Piece ``first`` records its thread; the first piece waits (a few seconds at most) until
    another piece has started, so the two run on two threads if two threads take pieces; the
    other records its thread only after a while (a pass that returned before its pieces were
    done would leave it unrecorded)."""
    if first == 0:
        ids[0] = _thread_id()
        for _ in range(2_000_000_000):
            if spin._load(flags, 0) != 0:
                break
    else:
        spin._store(flags, 0, 1)
        for _ in range(2_000_000):
            spin._load(flags, 0)
        ids[first] = _thread_id()


@numba.njit(nogil=True)
def _fails_at(at, counts, first, last):
    for i in range(first, last):
        if i == at:
            raise ValueError("the piece at `at` fails")
        counts[i] += 1


needs_linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pthread_self and fork: Linux")


@pytest.mark.parametrize("threads", [2, 3, 6])
def test_every_piece_runs_once(threads):
    """Passes of 1 to 60 items in up to 4 pieces a thread, one after another: every item once,
    and the pass is over when the call returns."""
    for count in list(range(1, 61)) * 5:
        counts = np.zeros(count, np.int64)
        workers = spin.pool(threads)
        assert spin.run(workers, _count, (counts,), count, min(count, 4 * threads))
        assert (counts == 1).all(), (count, counts)


@needs_linux
@pytest.mark.parametrize("asleep", [False, True])
def test_a_pass_runs_on_two_threads(monkeypatch, asleep):
    """Two pieces, the first waiting for the second to start: they ran on two threads, with the
    worker spinning or asleep (spinning for a microsecond only, it sleeps between passes and the
    caller wakes it)."""
    if asleep:
        monkeypatch.setattr(spin, "SPIN_SECONDS", 1e-6)
        workers = spin._Pool(1)
    else:
        workers = spin.pool(2)
    for _ in range(5):
        flags, ids = np.zeros(1, np.int64), np.zeros(2, np.int64)
        if asleep:
            import time

            time.sleep(0.01)
        assert spin.run(workers, _meet, (flags, ids), 2, 2)
        assert flags[0] == 1 and ids[0] != 0 and ids[1] != 0 and ids[0] != ids[1]


def test_a_late_worker_takes_nothing_of_a_pass_that_moved_on():
    """A worker that read the generation of a finished pass and calls its piece-taker after a
    new pass was published (or after that one finished) runs no piece; a piece-taker for the
    current pass runs the pieces left, each once."""
    counts = np.zeros(8, np.int64)
    workers = spin.pool(2)
    assert spin.run(workers, _count, (counts,), 8, 8)
    signature, entry = spin.prepared(_count, (counts,))
    state = workers.state.copy()  # a finished pass: every piece claimed
    address = state.ctypes.data
    signature.piece.ctypes(address, signature.piece.address)
    assert (counts == 1).all(), "a finished pass ran again"
    state[spin.ARGS] = 0  # a pass that moved on: the word holds another generation
    state[spin.NEXT] = (state[spin.GEN] + 1) << 32
    signature.piece.ctypes(address, signature.piece.address)
    assert (counts == 1).all(), "a piece of another generation ran"
    signature.take(state, entry, (counts,), state[spin.GEN])  # a worker still claiming pieces of the last pass
    assert (counts == 1).all(), "a piece of another generation ran"
    state[spin.NEXT] = (int(state[spin.GEN]) << 32) | 8
    signature.piece.ctypes(address, signature.piece.address + 1)  # another signature's pass
    assert (counts == 1).all()
    # the control: the current generation with pieces 5..7 unclaimed, its arguments in place
    go_state = np.zeros(spin.STATE, np.int64)
    ready = np.zeros(8, np.int64)
    signature.go(go_state, signature.piece.address, entry, 8, 8, spin.PAUSES, ready)  # no worker serves it
    assert (ready == 1).all()


def test_a_kernels_error_reaches_the_caller(monkeypatch):
    """A kernel that raises in a piece (on a worker or the caller): the caller raises it."""
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)
    for at in (0, 5, 11):
        with pytest.raises(ValueError, match="fails"):
            _threads._run(_fails_at, (at, np.zeros(12, np.int64)), 12, 2)
    counts = np.zeros(12, np.int64)
    _threads._run(_fails_at, (99, counts), 12, 2)
    assert (counts == 1).all()


def test_what_cannot_run_on_them_runs_on_the_python_pool():
    """A Python kernel, a compiled one that returns a value, or one given a list: :func:`run`
    declines, and ``_run`` computes the pass on the Python pool."""
    seen = []
    assert not spin.runs(lambda first, last: None, ())

    @numba.njit(nogil=True)
    def first_of(values, out, first, last):
        for i in range(first, last):
            out[i] = values[0] + i

    @numba.njit(nogil=True)
    def counted(out, first, last):
        for i in range(first, last):
            out[i] = i
        return last - first

    assert not spin.runs(counted, (np.zeros(4),))

    from numba.typed import List

    values = List([3])
    assert not spin.runs(first_of, (values, np.zeros(4)))
    out = np.zeros(4)
    _threads._run(first_of, (values, out), 4, 2)
    assert out.tolist() == [3, 4, 5, 6]
    _threads._run(lambda first, last: seen.append((first, last)), (), 4, 2)
    assert sorted(seen) == [(i, i + 1) for i in range(4)]


@needs_linux
@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")  # the child runs only NumPy and compiled code
def test_a_forked_child_gets_workers_of_its_own():
    """Workers started in the parent do not exist in a forked child: it starts its own, and its
    split passes are whole and on two threads.  (Everything is compiled before the fork, and
    the child is killed after a minute rather than left to hang the run.)"""
    import signal
    import time

    workers = spin.pool(2)
    counts, flags, ids = np.zeros(40, np.int64), np.zeros(1, np.int64), np.zeros(2, np.int64)
    assert spin.runs(_count, (counts,)) and spin.runs(_meet, (flags, ids))
    assert spin.run(workers, _count, (np.zeros(4, np.int64),), 4, 4)
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if its passes are right
        ok = False
        try:
            child = spin.pool(2)
            ok = (child is not workers and spin.run(child, _count, (counts,), 40, 8) and (counts == 1).all()
                  and spin.run(child, _meet, (flags, ids), 2, 2) and ids[0] != ids[1])
        finally:
            os._exit(0 if ok else 1)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
        time.sleep(0.01)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.skipif(_threads._getcpu is None or len(os.sched_getaffinity(0)) < 2,
                    reason="thread affinity is set on Linux, with two CPUs or more")
def test_the_workers_are_kept_off_the_callers_cpu(monkeypatch):
    """As the Python pool's threads: after a split pass, the workers may run on every CPU of the
    process but the caller's."""
    monkeypatch.setattr(_threads, "_apart", {})
    _threads._run(_count, (np.zeros(8, np.int64),), 8, 2)
    ids = _threads._workers[("spinning", 1)]
    cpu, threads = _threads._apart[("spinning", 1)]
    assert threads == len(ids) == 1
    assert os.sched_getaffinity(ids[0]) == os.sched_getaffinity(0) - {cpu}


def test_passes_split_no_wider_than_the_cpus_the_process_may_use(monkeypatch):
    """``NUMBA_NUM_THREADS`` of 2 (Numba's default on two CPUs) with the process held to one CPU:
    passes run whole; with two CPUs, split."""
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)
    monkeypatch.setattr(_threads, "THREADED_ELEMENTS", 0)
    monkeypatch.setattr(_threads, "_handoffs", {2: 0.0})
    ranges = []
    kernel = lambda first, last: ranges.append((first, last))  # noqa: E731
    monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda pid: {0})
    assert _threads.threads_here() == 1
    _threads.in_threads(kernel, 8, 10**6, seconds=1.0)
    assert ranges == [(0, 8)]
    monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda pid: {0, 1})
    assert _threads.threads_here() == 2
    ranges.clear()
    _threads.in_threads(kernel, 8, 10**6, seconds=1.0)
    assert sorted(ranges) == [(i, i + 1) for i in range(8)]
