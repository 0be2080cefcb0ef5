"""Worker threads that take a split pass's pieces in compiled code: no GIL and no wake-up
between the caller handing the pass out and the workers starting on it.

The pool of :mod:`convspec.impls._threads` hands a pass to Python threads: a worker is woken
(a futex), takes the GIL, calls the kernel, and the caller is woken again when it is done.
On 2 vCPUs (AMD EPYC, a VM) that cost 28 us before the worker started and 29 after it ended
(one 1x1 pass of 0.2 ms a thread on 2048 channels of 7x7: 0.29 ms split against 0.20 for a
half alone), the empty pass 35-49 us.  Here:

- each worker waits in compiled code (:func:`_serve`, the GIL released), reading a
  generation counter, ``pause`` between reads and ``sched_yield`` every few, so that another
  thread ready on its CPU (a BLAS's) runs first;
- the caller publishes a pass (``go``, generated and compiled per signature of the kernel's
  arguments, the GIL released) with the kernel's compiled entry point and the address of its
  arguments,
  and takes pieces itself; each piece is claimed by a compare-and-swap on a word holding the
  pass's generation and the next piece, so a worker that arrives late takes none of a pass that
  has moved on, and the caller waits, spinning, only for pieces a worker has claimed;
- a worker idle for :data:`SPIN_SECONDS` sleeps on a semaphore, which the next caller
  releases before it publishes; woken, the worker waits for that caller's pass.

Each output is still computed by one range, so splitting never changes a result.  A kernel
that returns an error status (none of the bundled ones raises) marks the pass, and the caller
runs it again whole in Python, where the exception is raised as usual.  Kernels that are not
Numba dispatchers, return a value, or take arguments other than arrays, numbers and tuples of
numbers, run on the pool of :mod:`convspec.impls._threads` instead.  A forked child starts a pool of its own.
"""

import ctypes
import os
import platform
import sys
import threading
import time

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.callconv import RETCODE_NONE, RETCODE_OK
from numba.extending import intrinsic

#: How long an idle worker keeps spinning for the next pass before it sleeps (the next caller
#: then pays a wake-up, as on the Python pool).  Passes of one layer follow each other within
#: microseconds, and layers of a network within a millisecond.
SPIN_SECONDS = 2e-3
#: How long a worker woken from its sleep waits for the pass of the caller that woke it (which
#: publishes it at once; the bound only matters if that caller failed before publishing).
WOKEN_SECONDS = 1.0
#: ``pause`` instructions between two ``sched_yield`` calls in a spin.
PAUSES = 32

# The shared state, one int64 array: the pass, then the claim and done words on cache lines of
# their own, then one sleeping word a worker.
GEN = 0  # the generation of the pass published last (0: none yet)
PIECE_FN = 1  # the address of the compiled piece-taker for the pass's signature
KERNEL = 2  # the kernel's compiled entry point
ARGS = 3  # the address of the pass's arguments (a tuple in the caller's frame)
PIECES = 4
COUNT = 5
FAILED = 6  # set when a kernel returned an error status
NEXT = 8  # (generation << 32) | the next piece to claim
DONE = 16  # pieces finished in this pass
SLEEPING = 24  # one word a worker from here: 1 while it sleeps or is about to
#: Words of the state before the workers' sleeping words.
STATE = SLEEPING


def _data(context, builder, ty, value):
    return value if isinstance(ty, types.CPointer) else context.make_array(ty)(context, builder, value).data


def _slot(context, builder, sig, args):
    return builder.gep(_data(context, builder, sig.args[0], args[0]), [args[1]])


@intrinsic
def _load(typingctx, state, i):
    """``state[i]``, read atomically (sequentially consistent)."""
    def codegen(context, builder, sig, args):
        return builder.load_atomic(_slot(context, builder, sig, args), "seq_cst", 8)

    return types.int64(state, types.intp), codegen


@intrinsic
def _store(typingctx, state, i, value):
    """``state[i] = value``, written atomically (sequentially consistent)."""
    def codegen(context, builder, sig, args):
        builder.store_atomic(args[2], _slot(context, builder, sig, args), "seq_cst", 8)
        return context.get_dummy_value()

    return types.void(state, types.intp, types.int64), codegen


def _read_modify_write(op):
    @intrinsic
    def rmw(typingctx, state, i, value):
        def codegen(context, builder, sig, args):
            return builder.atomic_rmw(op, _slot(context, builder, sig, args), args[2], "seq_cst")

        return types.int64(state, types.intp, types.int64), codegen

    return rmw


_exchange = _read_modify_write("xchg")  # returns the old value
_add = _read_modify_write("add")


@intrinsic
def _compare_exchange(typingctx, state, i, expected, new):
    """``state[i] = new`` if it holds ``expected``; returns the value it held."""
    def codegen(context, builder, sig, args):
        pair = builder.cmpxchg(_slot(context, builder, sig, args), args[2], args[3], "seq_cst", "seq_cst")
        return builder.extract_value(pair, 0)

    return types.int64(state, types.intp, types.int64, types.int64), codegen


_PAUSE = "llvm.x86.sse2.pause" if platform.machine().lower() in ("x86_64", "amd64", "i386", "i686") else None
_YIELD = "sched_yield" if sys.platform.startswith("linux") else None


@intrinsic
def _relax(typingctx, pauses):
    """``pauses`` ``pause`` instructions (x86; elsewhere nothing), then ``sched_yield`` (Linux)."""
    def codegen(context, builder, sig, args):
        if _PAUSE is not None:
            pause = builder.module.declare_intrinsic(_PAUSE, fnty=ir.FunctionType(ir.VoidType(), []))
            with cgutils.for_range(builder, args[0]):
                builder.call(pause, [])
        if _YIELD is not None:
            fnty = ir.FunctionType(ir.IntType(32), [])
            fn = cgutils.get_or_insert_function(builder.module, fnty, _YIELD)
            builder.call(fn, [])
        return context.get_dummy_value()

    return types.void(types.intp), codegen


@intrinsic
def _address_of(typingctx, state):
    def codegen(context, builder, sig, args):
        return builder.ptrtoint(_data(context, builder, sig.args[0], args[0]), ir.IntType(64))

    return types.int64(state), codegen


@intrinsic
def _state_at(typingctx, address):
    """The state array's data as a pointer, from its address."""
    def codegen(context, builder, sig, args):
        return builder.inttoptr(args[0], ir.IntType(64).as_pointer())

    return types.CPointer(types.int64)(types.int64), codegen


@intrinsic
def _call_piece_fn(typingctx, address, state_address):
    """Call the piece-taker at ``address`` (a C function of two int64s) on the state."""
    def codegen(context, builder, sig, args):
        fnty = ir.FunctionType(ir.VoidType(), [ir.IntType(64), ir.IntType(64)])
        builder.call(builder.inttoptr(args[0], fnty.as_pointer()), [args[1], args[0]])
        return context.get_dummy_value()

    return types.void(types.int64, types.int64), codegen


@intrinsic
def _stash(typingctx, values):
    """The address of a copy of the tuple ``values`` in the calling function's frame."""
    def codegen(context, builder, sig, args):
        slot = cgutils.alloca_once(builder, context.get_value_type(sig.args[0]))
        builder.store(args[0], slot)
        return builder.ptrtoint(slot, ir.IntType(64))

    return types.int64(values), codegen


def _signature_code(argtypes):
    """``(unstash, call)``: intrinsics for a pass whose kernel takes ``argtypes`` and then
    ``first, last``: the arguments back from :func:`_stash`'s address (arrays as borrowed
    views: the caller holds them, so no reference is counted here, where there is no GIL), and
    a call of the kernel's compiled entry point by address, returning 1 where it failed."""
    values = types.Tuple(argtypes)
    kernel_types = tuple(argtypes) + (types.int64, types.int64)

    @intrinsic
    def unstash(typingctx, address):
        def codegen(context, builder, sig, args):
            value = builder.load(builder.inttoptr(args[0], context.get_value_type(values).as_pointer()))
            for i, ty in enumerate(argtypes):
                if isinstance(ty, types.Array):
                    array = context.make_array(ty)(context, builder, value=builder.extract_value(value, i))
                    array.meminfo = cgutils.get_null_value(array.meminfo.type)
                    array.parent = cgutils.get_null_value(array.parent.type)
                    value = builder.insert_value(value, array._getvalue(), i)
            return value

        return values(types.int64), codegen

    @intrinsic
    def call(typingctx, address, stashed, first, last):
        def codegen(context, builder, sig, args):
            conv = context.call_conv
            fnty = conv.get_function_type(types.none, kernel_types)
            result = cgutils.alloca_once(builder, conv.get_return_type(types.none).pointee)
            builder.store(cgutils.get_null_value(result.type.pointee), result)
            excinfo = cgutils.alloca_once(builder, fnty.args[1].pointee, name="excinfo")
            parts = [builder.extract_value(args[1], i) for i in range(len(argtypes))] + [args[2], args[3]]
            packed = list(conv._get_arg_packer(kernel_types).as_arguments(builder, parts))
            status = builder.call(builder.inttoptr(args[0], fnty.as_pointer()), [result, excinfo] + packed)
            ok = builder.or_(builder.icmp_signed("==", status, RETCODE_OK),
                             builder.icmp_signed("==", status, RETCODE_NONE))  # as Numba reads a status
            return builder.zext(builder.not_(ok), ir.IntType(64))

        return types.int64(types.int64, values, types.int64, types.int64), codegen

    return unstash, call


_TEMPLATE = '''
def take(state, kernel, values, gen):
    pieces = _load(state, PIECES)
    count = _load(state, COUNT)
    while True:
        word = _load(state, NEXT)
        if (word >> 32) != gen:
            return
        i = word & 0xffffffff
        if i >= pieces:
            return
        if _compare_exchange(state, NEXT, word, word + 1) != word:
            continue
        if call(kernel, values, count * i // pieces, count * (i + 1) // pieces) != 0:
            _store(state, FAILED, 1)
        _add(state, DONE, 1)


def piece(state_address, me):
    state = _state_at(state_address)
    gen = _load(state, GEN)
    kernel = _load(state, KERNEL)
    address = _load(state, ARGS)
    if _load(state, PIECE_FN) != me or (_load(state, NEXT) >> 32) != gen:
        return
    take(state, kernel, unstash(address), gen)


def go(state, me, kernel, count, pieces, pauses, {names}):
    values = ({names})
    _store(state, NEXT, 0)
    _store(state, PIECE_FN, me)
    _store(state, KERNEL, kernel)
    _store(state, ARGS, _stash(values))
    _store(state, PIECES, pieces)
    _store(state, COUNT, count)
    _store(state, DONE, 0)
    _store(state, FAILED, 0)
    gen = _load(state, GEN) % 0x7fffffff + 1
    _store(state, NEXT, gen << 32)
    _store(state, GEN, gen)
    take(state, kernel, values, gen)
    while _load(state, DONE) < pieces:
        _relax(pauses)
'''


@numba.njit(nogil=True, cache=True)
def _serve(state, worker, seen, spins, first, pauses):
    """A worker's wait: run the piece-taker of every new pass, and return the last generation
    seen once ``spins`` waits passed with none (``first`` before the first pass: a worker just
    woken waits for the pass of the caller that woke it), its sleeping word set (the caller
    that clears it releases the worker's semaphore)."""
    idle = 0
    limit = first
    while True:
        gen = _load(state, GEN)
        if gen != seen:
            seen = gen
            _call_piece_fn(_load(state, PIECE_FN), _address_of(state))
            idle = 0
            limit = spins
            continue
        idle += 1
        if idle < limit:
            _relax(pauses)
            continue
        _store(state, SLEEPING + worker, 1)
        if _load(state, GEN) == seen or _exchange(state, SLEEPING + worker, 0) == 0:
            return seen  # asleep, or a caller cleared the word: its release is coming
        idle = 0  # a pass came meanwhile and the word was taken back


@numba.njit(nogil=True, cache=True)
def _wake_word(state, worker):
    """Whether the worker was asleep (its word is then cleared: the caller releases it)."""
    return _load(state, SLEEPING + worker) != 0 and _exchange(state, SLEEPING + worker, 0) == 1


def _describe(value):
    """A cheap key for the Numba type of an argument."""
    if isinstance(value, np.ndarray):
        flags = value.flags
        return value.dtype.str, value.ndim, flags.c_contiguous, flags.f_contiguous, flags.writeable, flags.aligned
    if isinstance(value, tuple):
        return tuple(map(_describe, value))
    return type(value)


def _supported(ty):
    if isinstance(ty, (types.Array, types.Number, types.Boolean)):
        return True
    return isinstance(ty, types.BaseTuple) and all(isinstance(t, (types.Number, types.Boolean)) for t in ty)


class _Signature:
    """The compiled ``go`` and piece-taker for one tuple of argument types."""

    def __init__(self, argtypes):
        unstash, call = _signature_code(argtypes)
        names = "".join(f"a{i}, " for i in range(len(argtypes)))
        space = dict(_load=_load, _store=_store, _add=_add, _compare_exchange=_compare_exchange, _relax=_relax,
                     _stash=_stash, _state_at=_state_at, unstash=unstash, call=call, GEN=GEN, PIECE_FN=PIECE_FN,
                     KERNEL=KERNEL, ARGS=ARGS, PIECES=PIECES, COUNT=COUNT, FAILED=FAILED, NEXT=NEXT, DONE=DONE)
        exec(_TEMPLATE.format(names=names), space)  # noqa: S102 - generated from the fixed template above
        self.take = space["take"] = numba.njit(nogil=True)(space["take"])
        self.piece = numba.cfunc(types.void(types.int64, types.int64), nopython=True)(space["piece"])
        self.go = numba.njit(nogil=True)(space["go"])
        # compiled now, not at its first call: a first pass would otherwise find the workers
        # asleep (they spin for milliseconds; compiling takes a tenth of a second)
        self.go.compile((numba.typeof(np.zeros(STATE, np.int64)),) + (types.int64,) * 5 + tuple(argtypes))


class _Pool:
    def __init__(self, workers):
        self.state = np.zeros(STATE + workers, np.int64)
        # never freed: a worker may still be spinning on it while the interpreter shuts down
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(self.state))
        self.workers = workers
        self.wake = [threading.Semaphore(0) for _ in range(workers)]
        self.lock = threading.Lock()
        self.ids = []
        probe = np.zeros(STATE + 1, np.int64)
        _serve(probe, 0, 0, 1, 1, PAUSES)  # compiled (or loaded) before it is timed
        start = time.perf_counter()
        _serve(probe, 0, 0, 2000, 2000, PAUSES)
        wait = max((time.perf_counter() - start) / 2000, 1e-9)
        self.spins = max(1, int(SPIN_SECONDS / wait))
        self.woken = max(1, int(WOKEN_SECONDS / wait))
        for worker in range(workers):
            threading.Thread(target=self._loop, args=(worker,), daemon=True,
                             name=f"convspec-worker-{worker}").start()
        while len(self.ids) < workers:
            time.sleep(0)

    def _loop(self, worker):
        self.ids.append(threading.get_native_id())
        seen = _serve(self.state, worker, 0, self.spins, self.spins, PAUSES)
        while True:
            self.wake[worker].acquire()
            seen = _serve(self.state, worker, seen, self.spins, self.woken, PAUSES)


_pools = {}  # (process id, workers) -> _Pool
_starting = threading.Lock()  # one pool per key, whichever threads ask at once
_signatures = {}  # argument types -> _Signature


def _after_fork_in_child():
    global _starting
    _starting = threading.Lock()  # another thread of the parent may have held it at the fork


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
_kernels = {}  # (kernel, cheap key of the arguments) -> (signature, entry point) or None


_UNSEEN = object()


def prepared(kernel, args):
    """``(signature, entry point)`` for calling ``kernel(*args, first, last)`` from compiled
    code (compiling what it needs on the first call for these argument types), or None where
    this module cannot run it."""
    key = (kernel, tuple(map(_describe, args)))
    found = _kernels.get(key, _UNSEEN)
    if found is not _UNSEEN:
        return found
    found = None
    if isinstance(kernel, numba.core.registry.CPUDispatcher):
        argtypes = tuple(numba.typeof(a) for a in args)
        if all(map(_supported, argtypes)):
            full = argtypes + (types.int64, types.int64)
            try:
                kernel.compile(full)
                result = kernel.overloads[full]
                if result.signature.return_type != types.none:  # the call by address expects none
                    raise numba.core.errors.NumbaError("returns a value")
                if argtypes not in _signatures:
                    _signatures[argtypes] = _Signature(argtypes)
                entry = result.library.get_pointer_to_function(result.fndesc.llvm_func_name)
                found = (_signatures[argtypes], entry)
            except numba.core.errors.NumbaError:  # left to the Python pool's call, which raises it
                found = None
    _kernels[key] = found
    return found


def runs(kernel, args) -> bool:
    """Whether :func:`run` can run ``kernel(*args, first, last)`` (:func:`prepared`)."""
    return prepared(kernel, args) is not None


def pool(threads):
    """This process's pool of ``threads - 1`` workers (started on first use; a forked child
    starts its own)."""
    pid = os.getpid()
    found = _pools.get((pid, threads - 1))
    if found is None:
        with _starting:
            for key in [key for key in _pools if key[0] != pid]:  # a forked child's copies of its parent's
                del _pools[key]
            found = _pools.get((pid, threads - 1))
            if found is None:
                found = _pools[(pid, threads - 1)] = _Pool(threads - 1)
    return found


def run(workers, kernel, args, count, pieces, ready=None) -> bool:
    """``kernel(*args, first, last)`` over ``range(count)`` cut into ``pieces`` pieces, taken by
    the calling thread and the pool ``workers``'s (``ready``: what :func:`prepared` gave for
    them, else looked up here).  Returns False, having run nothing, where :func:`runs` is false
    or another thread is running a pass on these workers."""
    ready = prepared(kernel, args) if ready is None else ready
    if ready is None or not workers.lock.acquire(blocking=False):
        return False
    signature, entry = ready
    try:
        for worker in range(workers.workers):
            if _wake_word(workers.state, worker):
                workers.wake[worker].release()
        signature.go(workers.state, signature.piece.address, entry, count, pieces, PAUSES, *args)
        failed = workers.state[FAILED] != 0
    finally:
        workers.lock.release()
    if failed:  # run whole in Python, where the kernel raises its exception as usual
        kernel(*args, 0, count)
    return True
