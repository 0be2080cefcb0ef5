"""Helpers shared by the bundled fast backends (not by ``naive``, which stays independent)."""

import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from convspec.contract import check_bias, check_signal_args, signal_as_conv_padding


def flipped(w):
    """``w`` reversed on every axis: convolution is correlation with this kernel (eq. 9.4 vs 9.6)."""
    return w[(slice(None, None, -1),) * w.ndim]


def zero_padded(x, pads, out=None):
    """``x`` with ``pads[i] = (before, after)`` zeros on axis ``i`` (``np.pad``'s constant mode
    without its argument handling, which costs 20 us, as much as a small signal's sums).  With
    ``out`` (of the padded shape), written there: only the padding slabs are zeroed."""
    if out is None:
        if not any(a or b for a, b in pads):
            return x
        out = np.zeros(tuple(n + a + b for n, (a, b) in zip(x.shape, pads)), dtype=x.dtype)
    else:
        for axis, (a, b) in enumerate(pads):
            for cut in (slice(0, a), slice(out.shape[axis] - b, None)):
                out[(slice(None),) * axis + (cut,)] = 0
    out[tuple(slice(a, a + n) for n, (a, _) in zip(x.shape, pads))] = x
    return out


def signal_via_conv(conv, x, w, mode, *, flip):
    """``correlate``/``convolve`` as a single-channel, stride-1 ``conv`` with the mode's padding."""
    x, w = check_signal_args(x, w, mode)
    if flip:
        w = flipped(w)
    ones = (1,) * x.ndim
    y = conv(x[None, None], w[None, None], stride=ones, dilation=ones,
             padding=signal_as_conv_padding(w.shape, mode), groups=1)
    return y[0, 0]


def add_bias(y, bias):
    """``y`` plus a shared ``(C_out,)`` or untied ``(C_out, *O)`` bias (checked), in place."""
    bias = check_bias(bias, {(y.shape[1],), y.shape[1:]}, y.dtype)
    if bias is not None:
        y += bias.reshape(bias.shape + (1,) * (y.ndim - 1 - bias.ndim))
    return y


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


def lp_norm(a, p, axis):
    """``(sum |a|^p) ** (1/p)`` over ``axis``, computed as ``m (sum (|a|/m)^p) ** (1/p)`` with
    ``m`` the largest ``|a|``: ``|a|^p`` itself overflows for ``|a| > max ** (1/p)`` (about
    1.8e19 in float32 for p = 2) and underflows for tiny values, where the norm is still
    representable.  NaN gives NaN, an infinite value infinity, an all-zero window zero."""
    a = np.abs(a)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where((m > 0) & np.isfinite(m), m, np.ones_like(m))
    p = a.dtype.type(p)
    return (np.sum((a / m) ** p, axis=axis) ** (a.dtype.type(1) / p)) * np.squeeze(m, axis=axis)


def transposed_kernel(w, groups):
    """The kernel of the adjoint layer: ``(C_in, C_out / groups, *K)``, each group's channels
    swapped and every spatial axis reversed (eq. 9.13 at stride 1 is a correlation of the
    output gradient with this kernel)."""
    o_group, c_group, kernel = w.shape[0] // groups, w.shape[1], w.shape[2:]
    swapped = w.reshape((groups, o_group, c_group) + kernel).swapaxes(1, 2)
    reversed_axes = (slice(None), slice(None)) + (slice(None, None, -1),) * len(kernel)
    return np.ascontiguousarray(swapped.reshape((groups * c_group, o_group) + kernel)[reversed_axes])


def grad_input_as_conv(conv, gy, w, shape, stride, padding, dilation, groups, bias):
    """``conv_grad_input`` of a stride-1 layer as the forward ``conv`` of ``gy`` with the
    transposed kernel (:func:`transposed_kernel`), padded ``d (k - 1) - a`` before and
    ``d (k - 1) - b`` after on each axis; ``None`` when the layer is strided or padded past
    its kernel's span (then a negative padding would be needed)."""
    if any(s != 1 for s in stride):
        return None
    pads = tuple((d * (k - 1) - a, d * (k - 1) - b) for k, d, (a, b) in zip(w.shape[2:], dilation, padding))
    if any(a < 0 or b < 0 for a, b in pads):
        return None
    dx = conv(gy, transposed_kernel(w, groups), stride=stride, padding=pads, dilation=dilation, groups=groups,
              bias=bias)
    assert dx.shape == tuple(shape), (dx.shape, shape)
    return dx


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
