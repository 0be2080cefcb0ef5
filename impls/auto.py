"""``auto``: each call goes to the bundled algorithm that is fastest for that problem.

How it chooses, per call of ``correlate``/``convolve``/``conv``:

1. Every bundled algorithm that can compute the call is a candidate: direct compiled loops
   (numba), the FFT (one transform, or overlap-add for long 1-D signals), two 1-D passes when
   a 2-D kernel has rank one (separable, e.g. a Gaussian), im2col + GEMM, Winograd, and float32
   layers in register blocks without columns (:mod:`convspec.impls._blocked`).
2. A cost model estimates each candidate's time from its operation count and rates measured
   on this machine: a calibration of about a second at first use, kept per CPU, library
   versions and thread count in the user's cache (:mod:`convspec.impls._calibration`;
   ``CONVSPEC_CALIBRATE=again`` measures anew, ``=off`` takes the development machine's
   rates).  Small problems (estimate under ``MEASURE_ABOVE`` seconds) take the cheapest
   estimate: timing them would cost more than a wrong pick.
3. Larger problems are timed once: the candidates whose estimate is within ``SHORTLIST`` of
   the best run three times each (the first run loads compiled code), then twice more in a
   second pass, so one burst of noise cannot decide alone; the best time wins, and the choice
   is cached for that problem
   signature (shapes, dtype, mode or layer arguments) for the rest of the process, as FFTW
   plans or cuDNN's benchmark mode do.  The first call returns the winner's own result.
4. A layer called again in the same form (NumPy arrays; integer arguments, or tuples or
   lists of them) runs its algorithm with the geometry worked out on the first call and without
   validating again (those exact arguments passed once): the Python around a small layer
   costs as much as its arithmetic.

Since it may use the FFT or Winograd, ``auto`` declares the normwise (``fft``) accuracy class.
The separable path is taken only when the kernel equals its rank-one factorisation to within
two unit roundoffs in the 1-norm, so its extra error stays far inside that bound.
"""

import functools
import math
import time

import numpy as np

from convspec._contract.functions import (check_conv_args, check_grad_args, check_pool_args, check_signal_args,
                                         conv_output_shape, every_dtype, is_integer_data, is_low_precision,
                                         pool_output_shape, signal_as_conv_padding)
from convspec._engine.machine import wait_until_idle

from convspec.impls import _blocked, fft, im2col, numba_direct, winograd
from convspec.impls._algebra import add_bias, flipped, grad_input_as_conv, zero_padded
from convspec.impls._calibration import CALL_SECONDS, rates
from convspec.impls._threads import blas_threads, over_images

convspec_capabilities = {"accuracy": "fft", "validates_arguments": True, "biases": True,
                         "features": ["pool_dilation", "pool_padding_to_window", "grad_input_bias",
                                      "max_pool_indices", "qlinear"],
                         "dtypes": every_dtype()}

#: The rates the estimates divide by (multiply-adds per second of the direct loops and of GEMM,
#: bytes per second of copies, seconds per FFT butterfly) are measured on this machine at first
#: use and kept in the user's cache (:mod:`convspec.impls._calibration`; ``CONVSPEC_CALIBRATE``),
#: beside the fixed cost of one call (Python dispatch, allocation), ``CALL_SECONDS``.
#: A layer by the FFT costs more before any arithmetic: three transforms and their plans
#: (115 us on a 3x4x5 input, where im2col takes 67 us).
FFT_LAYER_CALL_SECONDS = 1e-4
#: Problems estimated below this many seconds are not timed.  Timing costs nine runs of each
#: shortlisted candidate once per problem (about 15 ms for a layer of 0.5 ms, beside 30-600 ms
#: of compilation and plans on a first call); estimates off by 1.5x on this machine (a 1-D
#: stride-2 layer of 64 channels of 4000: im2col estimated 1.2 ms and took 1.8, the blocks 1.9
#: and 1.6) kept wrong picks for layers of 0.5-2 ms when only those above 2 ms were timed.  At
#: two threads, once split passes ran on spinning workers, 1x1 layers on one 7x7 image estimated
#: at 0.30 ms went to im2col (0.29-0.31 ms on OpenBLAS's two threads) where the register blocks
#: take 0.22-0.24: the two estimates were 3 % apart, so such layers are timed too.
MEASURE_ABOVE = 2e-4
#: Candidates estimated within this factor of the best are timed.
SHORTLIST = 4.0

#: At most this long (seconds) ``auto`` waits for the BLAS's idle threads to stop spinning before
#: it times candidates that run on threads of their own (OpenBLAS's spin for about 0.1 s).
IDLE_BEFORE_TIMING = 0.25

#: Remembered choices (timed or estimated) per problem signature, at most PLAN_LIMIT of them.
_plans: dict = {}
_measured: set = set()
PLAN_LIMIT = 10_000


def _choose(key, candidates, run):
    """The name of the candidate to run, and its result if choosing already computed it.

    ``candidates`` maps names to estimated seconds; ``run(name)`` computes the call.  The
    choice is remembered under ``key`` (when not None)."""
    if key in _plans:
        return _plans[key], None
    best = min(candidates.values())
    result = None
    if best < MEASURE_ABOVE or len(candidates) == 1:
        winner = min(candidates, key=candidates.get)
    else:
        timed, results = {}, {}
        shortlist = [name for name, estimate in sorted(candidates.items(), key=lambda item: item[1])
                     if estimate <= SHORTLIST * best]
        # three blocks of three runs per candidate, in A-B-B-A order across the passes; the
        # first run of a block is not counted (it loads compiled code, touches memory and refills
        # the caches the other candidate evicted), and the least of the rest decides: a burst of
        # noise on a shared machine during one block does not decide alone (with two passes of
        # 3 and 2 counted runs, a 3x3 stride-2 layer went to im2col at 2.85 ms in one process in
        # three, against Winograd's 2.39)
        # Candidates that run no GEMM (those that split the batch with the BLAS at one thread,
        # the compiled kernels) are timed before the others: after a GEMM on several threads,
        # OpenBLAS's idle threads spin for about 0.1 s on the cores a split needs, and doubled
        # its times when it came right after
        first = [n for n in shortlist if n.endswith(SPLIT) or n in NO_GEMM]
        if first and blas_threads() > 1:  # and once a GEMM run before this call stops spinning
            wait_until_idle(IDLE_BEFORE_TIMING)
        for group in (first, [n for n in shortlist if n not in first]):
            for rounds in range(3):
                for name in (group if rounds % 2 == 0 else group[::-1]):
                    for i in range(3):
                        start = time.perf_counter()
                        results[name] = run(name)
                        if i:
                            timed[name] = min(timed.get(name, math.inf), time.perf_counter() - start)
        winner = min(timed, key=timed.get)
        result = results[winner]
        _measured.add(key)
    if key is not None:
        if len(_plans) >= PLAN_LIMIT:
            _plans.clear()
            _measured.clear()
        _plans[key] = winner
    return winner, result


def plans() -> dict:
    """The choices made by timing so far in this process: signature -> algorithm name."""
    return {key: name for key, name in _plans.items() if key in _measured}


# -- single-channel signals -------------------------------------------------------------------

def rank_one(w):
    """``(u, v)`` with ``w == outer(u, v)`` to within two unit roundoffs in the 1-norm, else None.

    The candidate factors are the column and the row through the entry of largest magnitude
    (exact for a rank-one matrix, and O(k^2) work, unlike an SVD on every call)."""
    if w.ndim != 2 or min(w.shape) < 2 or not np.all(np.isfinite(w)):
        return None
    wd = w.astype(np.float64)
    i, j = np.unravel_index(np.argmax(np.abs(wd)), wd.shape)
    if wd[i, j] == 0:
        return None
    a, b = wd[:, j], wd[i] / wd[i, j]
    a32, b32 = a.astype(w.dtype), b.astype(w.dtype)
    residual = np.abs(wd - np.outer(a32.astype(np.float64), b32.astype(np.float64))).sum()
    if residual > np.finfo(w.dtype).eps * np.abs(wd).sum():  # two unit roundoffs
        return None
    return a32, b32


def _separable(x, factors, mode):
    """Correlation with ``outer(u, v)`` as a pass along axis 0 with ``u`` then along axis 1 with ``v``."""
    u, v = factors
    pads = signal_as_conv_padding((len(u), len(v)), mode)
    xp = zero_padded(x, pads)
    return numba_direct.correlate_padded(numba_direct.correlate_padded(xp, u[:, None]), v[None, :])


def _direct_seconds(outputs, w_shape):
    r = rates()
    rate = r["direct_macs_per_s"] if w_shape[-1] >= 4 else r["direct_narrow_macs_per_s"]
    return outputs * math.prod(w_shape) / rate


def _fft_seconds(lengths):
    size = math.prod(lengths)
    return rates()["fft_seconds_per_butterfly"] * size * math.log2(max(size, 2))


def _signal(x, w, mode, flip):
    """``correlate`` (or ``convolve`` when ``flip``) by the fastest bundled algorithm (a
    signature seen before goes straight to its algorithm: estimating costs as much as a small
    signal's sums)."""
    x, w = check_signal_args(x, w, mode)
    kernel = flipped(w) if flip else w  # the kernel to correlate with
    factors = rank_one(kernel) if w.size >= 9 else None
    pads = signal_as_conv_padding(w.shape, mode)

    def run(name):
        if name == "direct":  # validated above: the compiled loops on the padded signal
            return numba_direct.correlate_with_padding(x, kernel, pads)
        if name == "fft":
            return fft.correlate(x, kernel, mode=mode)
        return _separable(x, factors, mode)

    key = ("signal", x.shape, w.shape, x.dtype, mode, factors is not None)
    name = _plans.get(key)
    if name is not None:
        return run(name)
    out = [m + a + b - k + 1 for m, k, (a, b) in zip(x.shape, w.shape, pads)]
    outputs = math.prod(out)
    candidates = {"direct": CALL_SECONDS + _direct_seconds(outputs, w.shape)}
    length = fft.overlap_add_length(x.shape[0], w.shape[0]) if x.ndim == 1 else None
    if length is not None:
        blocks = fft.blocks(x.shape[0], w.shape[0], length)
        candidates["fft"] = CALL_SECONDS + 2 / 3 * blocks * _fft_seconds([length])
    else:
        candidates["fft"] = CALL_SECONDS + _fft_seconds([m + k - 1 for m, k in zip(x.shape, w.shape)])
    if factors is not None:
        candidates["separable"] = CALL_SECONDS + 2 * outputs * sum(w.shape) / rates()["direct_macs_per_s"]
    name, result = _choose(key, candidates, run)
    return run(name) if result is None else result


def correlate(x, w, *, mode):
    if is_low_precision(x):  # float16/bfloat16: im2col's float32 GEMM, rounded once
        return im2col.correlate(x, w, mode=mode)
    if np.iscomplexobj(x):  # complex signals: the full transforms
        return fft.correlate(x, w, mode=mode)
    return _signal(x, w, mode, flip=False)


def convolve(x, w, *, mode):
    if is_low_precision(x):
        return im2col.convolve(x, w, mode=mode)
    if np.iscomplexobj(x):
        return fft.convolve(x, w, mode=mode)
    return _signal(x, w, mode, flip=True)


# -- layers -----------------------------------------------------------------------------------

def _layer_estimates(x_shape, w_shape, out, stride, padding, dilation, groups, itemsize):
    n, c_in = x_shape[:2]
    c_out = w_shape[0]
    taps = math.prod(w_shape[2:])
    positions = math.prod(out[2:])
    macs = n * c_out * positions * w_shape[1] * taps
    copies = 0 if taps == 1 else n * c_in * taps * positions * itemsize
    r = rates()
    gemm, copy, direct = r["gemm_macs_per_s"], r["copy_bytes_per_s"], r["direct_macs_per_s"]
    if n * positions <= NARROW_COLUMNS:  # a GEMM of few columns runs slower per multiply-add
        gemm = r["gemm_narrow_macs_per_s"]
    estimates = {"im2col": CALL_SECONDS + macs / gemm + copies / copy}
    if _blocked.applies(x_shape, w_shape, np.float32 if itemsize == 4 else np.float64, groups, out):
        # no columns: the input rewritten once, outputs in whole vectors
        written, computed = _blocked.work(x_shape, w_shape, out, stride, padding, dilation, _blocked.LANES)
        estimates["blocked"] = (CALL_SECONDS + macs * computed / math.prod(out) / r["blocked_macs_per_s"]
                                + written / copy)
    if groups > 1 and w_shape[1] == 1 and x_shape[1] == groups:  # depthwise: compiled rows, no GEMM to feed
        estimates["depthwise"] = CALL_SECONDS + macs / direct + n * c_in * positions * itemsize / copy
    if winograd.applies(x_shape, w_shape, stride, dilation, groups):
        # volumes: the 2-D algorithm per depth slice (its GEMMs are as wide as one slice's tiles)
        saving = winograd.products_per_output(stride[-2:], out[-2:], n if len(out) == 4 else 1, w_shape[0]) / 9
        transforms = (n * (c_in + c_out) * positions * 4 + c_in * c_out * 25) * itemsize
        estimates["winograd"] = CALL_SECONDS + saving * macs / gemm + transforms / copy
        if n > 1 and len(out) == 4:  # the same work a block of images at a time: only timing tells which wins
            estimates["winograd-blocks"] = estimates["winograd"]
    if taps > 1 and all(s == 1 for s in stride) and groups == 1:
        lengths = [m + k - 1 for m, k in zip(x_shape[2:], w_shape[2:])]
        transforms = n * c_in + c_out * c_in + n * c_out
        products = n * c_out * c_in * math.prod(lengths) / 2 * 4  # complex multiply-adds
        estimates["fft"] = (FFT_LAYER_CALL_SECONDS + transforms * _fft_seconds(lengths) / 3
                            + products / direct)
    return estimates


#: GEMMs of at most this many columns (images x output positions) run at the calibration's
#: narrow rate (measured on 49 columns) in ``auto``'s estimates.
NARROW_COLUMNS = 64


_LAYERS = {"im2col": im2col.conv, "winograd": winograd.conv, "winograd-blocks": winograd.conv_by_image_blocks,
           "fft": fft.conv, "depthwise": numba_direct.conv, "blocked": _blocked.conv}


#: The algorithms whose passes run no GEMM (their threads are their own, never OpenBLAS's).
NO_GEMM = ("blocked", "depthwise")
#: The algorithms that may run as one call per thread on a share of the batch (their passes
#: release the GIL and none starts Numba's own thread pool), named with SPLIT appended.
SPLITTABLE = ("im2col", "winograd", "winograd-blocks")
SPLIT = " by images"
#: Starting the threads and joining their outputs (measured: about 50 us).
SPLIT_CALL_SECONDS = 5e-5


def _layer(name):
    """The layer function of a candidate's name (``"<algorithm> by images"``: the batch split
    over the BLAS's threads, :func:`convspec.impls._threads.over_images`)."""
    if name.endswith(SPLIT):
        fn = _LAYERS[name[:-len(SPLIT)]]
        return lambda x, w, **kw: over_images(fn, _split_threads, x, w, **kw)
    return _LAYERS[name]


#: The BLAS's thread count when a split was planned: the batch is cut the same way on every
#: call.  Read at call time, it changed with another thread's split (each limits the
#: process's BLAS to one thread while it runs), so a call made then ran unsplit, its GEMMs
#: over the whole batch, and rounded differently (conv_worker_threads[auto-float32-3d]: 34 of
#: 3150 entries 7e-4 apart from the main thread's answer).
_split_threads = 1


def _frozen(value):
    """``value`` with lists made tuples, so that layer arguments can key the plan cache."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


#: Layers ready to run, by :func:`_ready_key`: the planned algorithm with its geometry bound,
#: ``(x, w) -> y`` (no bias).  A call seen before in the same form skips validation (done once
#: for those exact arguments) and the geometry: 80-100 us of Python per call, as long as a
#: MobileNetV2 1x1 layer's GEMM on 7x7.
_ready: dict = {}


def _plain(value):
    """A layer argument as part of a :data:`_ready` key: None, an integer (``int``, ``bool``,
    NumPy's) or (nested) tuples and lists of them, as ints and tuples; ``TypeError`` for
    anything else.  Those validate alike when their keys are equal, whereas ``1.0`` equals
    ``1`` and hashes as ``1`` but is not valid, so a call in this form can reuse a check
    made once."""
    if value is None:
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if type(value) in (tuple, list):
        return tuple(_plain(v) for v in value)
    raise TypeError(type(value).__name__)


def _ready_key(x, w, stride, padding, dilation, groups):
    """The key of a call in :data:`_ready`, or None when its arrays are not NumPy arrays or its
    arguments not :func:`_plain`."""
    if type(x) is not np.ndarray or type(w) is not np.ndarray or not isinstance(groups, (int, np.integer)):
        return None
    try:
        return x.shape, w.shape, x.dtype, w.dtype, _plain(stride), _plain(padding), _plain(dilation), int(groups)
    except TypeError:
        return None


def _runner(name, x, w, stride, padding, dilation, groups):
    """The algorithm ``name`` for validated layer arguments as ``(x, w) -> y`` (no bias): im2col
    and the depthwise kernels with their geometry worked out once, the others called whole."""
    if name == "im2col":
        return im2col.conv_plan(x.shape, w.shape, x.dtype, stride, padding, dilation, groups)
    if name == "blocked":
        out = conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation)
        return _blocked.conv_plan(x.shape, w.shape, out, stride, padding, dilation, _blocked.LANES)
    if name == "depthwise":
        out = conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation)
        return numba_direct.depthwise_plan(x.shape, w.shape, x.dtype, out, stride, padding, dilation)
    layer, kwargs = _layer(name), dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return lambda x, w: layer(x, w, **kwargs)


def conv(x, w, *, stride=None, padding=None, dilation=None, groups=1, bias=None, x_zero_point=None, w_zero_point=None,
         **quantised):
    """Layer convolution by the fastest of im2col + GEMM, Winograd, register blocks, the compiled
    depthwise loops and the FFT for this layer (integer or low-precision data, zero points or a
    quantised conv's scales: im2col, which is exact there, or rounds once from float32, or names
    what is wrong)."""
    plain = x_zero_point is None and w_zero_point is None and not quantised
    ready_key = _ready_key(x, w, stride, padding, dilation, groups) if plain else None
    ready = _ready.get(ready_key) if ready_key is not None else None
    if ready is not None:
        return add_bias(ready(x, w), bias)
    if not plain or is_integer_data(x) or is_low_precision(x):
        return im2col.conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias,
                           x_zero_point=x_zero_point, w_zero_point=w_zero_point, **quantised)
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias)
    try:  # a layer seen before goes straight to its algorithm (which validates its arguments)
        key = ("conv", np.shape(x), np.shape(w), getattr(x, "dtype", None), _frozen(stride), _frozen(padding),
               _frozen(dilation), groups)
        name = _plans.get(key)
    except TypeError:  # unhashable arguments: the algorithm's validation names them
        key = name = None
    if name is not None and ready_key is None:
        return _layer(name)(x, w, **kwargs)
    x, w, stride, padding, dilation, groups = check_conv_args(x, w, stride, padding, dilation, groups)
    result = None
    if name is None:
        out = conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation)
        candidates = _layer_estimates(x.shape, w.shape, out, stride, padding, dilation, groups, x.dtype.itemsize)
        global _split_threads
        threads = blas_threads()
        if threads > 1 and x.shape[0] > 1:  # the batch split over threads, each algorithm on its share
            _split_threads = max(_split_threads, threads)
            candidates.update({f"{name}{SPLIT}": SPLIT_CALL_SECONDS + seconds / min(threads, x.shape[0])
                               for name, seconds in list(candidates.items()) if name in SPLITTABLE})
        kwargs.update(stride=stride, padding=padding, dilation=dilation, groups=groups)
        name, result = _choose(key, candidates, lambda name: _layer(name)(x, w, **kwargs))
    runner = _runner(name, x, w, stride, padding, dilation, groups)
    if ready_key is not None:
        if len(_ready) >= PLAN_LIMIT:
            _ready.clear()
        _ready[ready_key] = runner
    return add_bias(runner(x, w), bias) if result is None else result


def conv_grad_input(gy, w, *, input_shape, stride=None, padding=None, dilation=None, groups=1, bias=None):
    """Eq. 9.13: at stride 1, this module's own ``conv`` of ``gy`` with the transposed kernel
    (so Winograd and the FFT compete for it as for a forward layer); otherwise im2col's GEMM
    and col2im."""
    if not (is_integer_data(gy) or is_low_precision(gy)):
        gy, w, shape, stride, padding, dilation, groups = check_grad_args(gy, w, input_shape, "input_shape", stride,
                                                                          padding, dilation, groups)
        dx = grad_input_as_conv(conv, gy, w, shape, stride, padding, dilation, groups, bias)
        if dx is not None:
            return dx
    return im2col.conv_grad_input(gy, w, input_shape=input_shape, stride=stride, padding=padding, dilation=dilation,
                                  groups=groups, bias=bias)


conv_grad_weight = im2col.conv_grad_weight


def _by_planes(x, return_indices=False, volumes=False):
    """Whether a pool runs channel by channel in stride phases (1-D and 2-D float32/float64, with
    ``volumes`` 3-D too, no indices asked for); else im2col's pass over all outputs per tap."""
    return (not return_indices and getattr(x, "dtype", None) in (np.float32, np.float64)
            and np.ndim(x) in ((3, 4, 5) if volumes else (3, 4)))


def _pool_args(x, window, stride, padding, ceil_mode, dilation):
    """The validated pool arguments and the output's shape."""
    x, window, stride, padding, dilation = check_pool_args(x, window, stride, padding, ceil_mode, dilation)
    return x, window, stride, padding, dilation, pool_output_shape(x.shape, window=window, stride=stride,
                                                                   padding=padding, ceil_mode=ceil_mode,
                                                                   dilation=dilation)


def max_pool(x, *, window, stride=None, padding=None, ceil_mode=False, dilation=None, return_indices=False):
    """A channel at a time in its stride phases (:func:`convspec.impls.numba_direct.pool_plane`;
    one thread, medians, A-B-B-A, im2col's pass per tap / this / ONNX Runtime 1.32's MaxPool:
    3x3 stride 2 on 8 x 64 channels of 112x112 33.3 / 4.4 / 5.4 ms, on one image 1.8 / 0.52 /
    0.47); a 1-D pool whose windows of 2 or 4 tile the rows, a row at a time
    (:func:`convspec.impls.numba_direct.max_pool_rows`); a volume as its depth slices
    (:func:`_max_pool_by_slices`); else im2col (indices, integers, low precision)."""
    if not _by_planes(x, return_indices, volumes=True):
        return im2col.max_pool(x, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                               dilation=dilation, return_indices=return_indices)
    x, window, stride, padding, dilation, out = _pool_args(x, window, stride, padding, ceil_mode, dilation)
    if x.ndim == 5:
        return _max_pool_by_slices(x, window, stride, padding, dilation, out)
    if (x.ndim == 3 and window == stride and window[0] in numba_direct.ROW_WINDOWS and padding == ((0, 0),)
            and dilation == (1,) and out[2] == x.shape[2] // window[0]):
        return numba_direct.max_pool_rows(x, window, out)
    return numba_direct.pool_plane(x, window, stride, padding, dilation, out)


def _max_pool_by_slices(x, window, stride, padding, dilation, out):
    """A 3-D max pool as the 2-D pool of every depth slice (:func:`numba_direct.pool_plane`),
    then the maximum over the window's depth taps: a box's maximum is the maximum of its
    slices' maxima.  NaN propagates through both; depth padding and a ceil-mode overhang are
    left out, so a window of padding only gives -inf, as im2col's.  (One thread, 2x2x2 stride 2
    on 64 channels of 8x56x56: im2col 1.63 ms, ONNX Runtime 0.84.)"""
    n, c, depth = x.shape[:3]
    planes = numba_direct.pool_plane(x.reshape((n, c * depth) + x.shape[3:]), window[1:], stride[1:], padding[1:],
                                     dilation[1:], (n, c * depth) + out[3:]).reshape((n, c, depth) + out[3:])
    y = np.full(out, -np.inf, dtype=x.dtype)
    s = stride[0]
    for t in range(window[0]):
        shift = t * dilation[0] - padding[0][0]  # output depth i reads input depth i * s + shift
        lo, hi = max(0, -(shift // s)), min(out[2], (depth - 1 - shift) // s + 1)
        if lo < hi:
            np.maximum(y[:, :, lo:hi], planes[:, :, lo * s + shift:(hi - 1) * s + shift + 1:s], out=y[:, :, lo:hi])
    return y


def avg_pool(x, *, window, stride=None, padding=None, ceil_mode=False, count_padding=False, dilation=None):
    """The window sums as :func:`max_pool` takes its maxima, divided by im2col's divisors (in
    float64, rounded once, as im2col does)."""
    if not _by_planes(x):
        return im2col.avg_pool(x, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                               count_padding=count_padding, dilation=dilation)
    x, window, stride, padding, dilation, out = _pool_args(x, window, stride, padding, ceil_mode, dilation)
    counts = _pool_counts(x.shape[2:], window, stride, padding, dilation, out[2:], count_padding)
    return numba_direct.pool_plane(x, window, stride, padding, dilation, out, counts)  # 0 / 0: NaN, as im2col


@functools.lru_cache(maxsize=256)
def _pool_counts(spatial, window, stride, padding, dilation, out, count_padding):
    """im2col's divisors of an average pool, kept per geometry (read only)."""
    return im2col.pool_counts((1, 1) + spatial, window, stride, padding, dilation, (1, 1) + out, count_padding)


lp_pool = im2col.lp_pool
adaptive_max_pool = im2col.adaptive_max_pool
adaptive_avg_pool = im2col.adaptive_avg_pool
max_unpool = im2col.max_unpool
local_conv = im2col.local_conv
tiled_conv = im2col.tiled_conv
