"""The rates ``auto``'s cost model runs on, measured on the machine it runs on.

``auto`` picks an algorithm per problem from estimated seconds: multiply-adds over a rate per
algorithm, bytes over a copy rate, transforms over an FFT rate.  The rates differ from machine
to machine by more than the algorithms do (a GEMM twice as fast moves every choice between
im2col and the direct loops), so they are measured here, once, by a calibration of about a
second on small problems of each kind, and kept, as FFTW keeps its wisdom, in the user's cache
(``$XDG_CACHE_HOME/convspec/calibration/``, else ``~/.cache/...``), one file per CPU, library
versions and thread count.  A later process reads the file.

``CONVSPEC_CALIBRATE=again`` measures anew (and rewrites the file); ``CONVSPEC_CALIBRATE=off``
uses :data:`DEFAULTS`, the development machine's rates, without measuring (for runs that must
choose the same on every machine).  A cache folder that cannot be written (a read-only sandbox)
only means the rates are measured once per process.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time

import numpy as np

#: The development machines' rates (AMD EPYC, one thread: the first five with AVX-512, the register
#: blocks' on an AVX2 one): used when calibration is off, and in place of any rate a calibration
#: could not measure.
DEFAULTS = {
    "direct_macs_per_s": 2.4e10,  # compiled direct loops, four taps per pass
    "direct_narrow_macs_per_s": 7e9,  # the same with fewer than four taps on the last axis
    "fft_seconds_per_butterfly": 7e-10,  # per L log2 L of the padded length, every transform included
    "gemm_macs_per_s": 4.2e10,  # sustained float32 GEMM, as im2col runs it
    # the same on a GEMM of few columns (a 1x1 layer on one 7x7 image: 49), where OpenBLAS ran
    # at 0.7 of its rate on many (one thread, AVX-512)
    "gemm_narrow_macs_per_s": 3e10,
    "copy_bytes_per_s": 8e9,  # building im2col's columns: a strided gather
    "blocked_macs_per_s": 3.2e10,  # float32 direct layers in register blocks (impls/_blocked.py)
}
#: The fixed cost of one call (Python dispatch, allocation), seconds, as ``auto`` assumes it.
CALL_SECONDS = 2e-5
#: Bump when a measurement changes, so that older files are not read (4: split passes on
#: spinning workers, :mod:`convspec.impls._spin_workers`, measure the register blocks faster on
#: several threads).
FORMAT = 4

_rates: dict | None = None


def _best(fn, repeats=5) -> float:
    """The least of ``repeats`` timed calls of ``fn`` after one untimed (which compiles, touches
    memory and fills the caches): on a shared machine noise only ever adds time."""
    fn()
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def measure() -> dict:
    """Measure every rate of :data:`DEFAULTS` here, on problems the size of small layers."""
    from convspec.impls import _blocked, fft, im2col, numba_direct

    rng = np.random.default_rng(0)
    # GEMM and copies as im2col runs them: a 1x1 layer is one GEMM on the input itself; a 3x3
    # layer adds the columns (C * 9 values per output position) to the same kind of GEMM
    x1, w1 = rng.standard_normal((1, 256, 28, 28), dtype=np.float32), rng.standard_normal((256, 256, 1, 1),
                                                                                               dtype=np.float32)
    macs1 = 256 * 256 * 28 * 28
    gemm = macs1 / max(_best(lambda: im2col.conv(x1, w1, stride=1, padding=0)) - CALL_SECONDS, 1e-9)
    x7, w7 = rng.standard_normal((1, 512, 7, 7), dtype=np.float32), rng.standard_normal((512, 512, 1, 1),
                                                                                            dtype=np.float32)
    narrow_gemm = 512 * 512 * 49 / max(_best(lambda: im2col.conv(x7, w7, stride=1, padding=0)) - CALL_SECONDS, 1e-9)
    x3, w3 = rng.standard_normal((1, 64, 28, 28), dtype=np.float32), rng.standard_normal((64, 64, 3, 3),
                                                                                             dtype=np.float32)
    macs3, copies3 = 64 * 64 * 9 * 28 * 28, 64 * 9 * 28 * 28 * 4
    spent = _best(lambda: im2col.conv(x3, w3, stride=1, padding=1)) - CALL_SECONDS - macs3 / gemm
    copy = copies3 / spent if spent > 0 else float("nan")  # nonsense keeps the default
    plan = _blocked.conv_plan(x3.shape, w3.shape, (1, 64, 28, 28), (1, 1), ((1, 1), (1, 1)), (1, 1), _blocked.LANES)
    blocked = macs3 / max(_best(lambda: plan(x3, w3)) - CALL_SECONDS, 1e-9)
    signal = rng.standard_normal((192, 192))
    wide, narrow = rng.standard_normal((5, 8)), rng.standard_normal((9, 2))
    pads = ((0, 0), (0, 0))
    direct = {}
    for name, kernel in (("direct_macs_per_s", wide), ("direct_narrow_macs_per_s", narrow)):
        outputs = math.prod(m - k + 1 for m, k in zip(signal.shape, kernel.shape))
        direct[name] = outputs * kernel.size / _best(lambda k=kernel: numba_direct.correlate_with_padding(signal, k,
                                                                                                          pads))
    long_kernel = rng.standard_normal((33, 33))
    lengths = [m + k - 1 for m, k in zip(signal.shape, long_kernel.shape)]
    size = math.prod(lengths)
    butterfly = _best(lambda: fft.correlate(signal, long_kernel, mode="full")) / (size * math.log2(size))
    return {"gemm_macs_per_s": gemm, "gemm_narrow_macs_per_s": narrow_gemm, "copy_bytes_per_s": copy, **direct,
            "fft_seconds_per_butterfly": butterfly, "blocked_macs_per_s": blocked}


def _key() -> str:
    """What the rates depend on: the CPU, the libraries that run the kernels, the threads."""
    import numba
    import scipy

    from convspec._engine.machine import cpu
    from convspec._versions import __version__
    from convspec.impls._threads import blas_threads, threads_here

    c = cpu()
    text = json.dumps([FORMAT, c["model"], c["isa"], np.__version__, scipy.__version__, numba.__version__,
                       __version__, blas_threads(), os.environ.get("OMP_NUM_THREADS", ""), threads_here()])
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def cache_path() -> str:
    """The file the rates of this machine, libraries and thread count are kept in."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "convspec", "calibration", f"{_key()}.json")


def _sensible(rate) -> bool:
    return isinstance(rate, (int, float)) and math.isfinite(rate) and rate > 0


def _valid(rates) -> bool:
    return isinstance(rates, dict) and set(rates) == set(DEFAULTS) and all(map(_sensible, rates.values()))


def _read(path):
    try:
        with open(path) as f:
            rates = json.load(f).get("rates")
    except (OSError, ValueError, AttributeError):
        return None
    return rates if _valid(rates) else None


def _write(path, rates, seconds) -> None:
    from convspec._engine.machine import describe

    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "w") as f:
            json.dump({"rates": rates, "machine": describe(), "seconds": round(seconds, 3),
                       "measured": time.strftime("%Y-%m-%d %H:%M:%S")}, f, indent=1)
        os.replace(temporary, path)  # whole or not at all: a concurrent reader never sees half
    except OSError:
        pass  # a read-only cache: measured again by the next process


def rates(*, again=False) -> dict:
    """The rates for this process: from :data:`DEFAULTS` when ``CONVSPEC_CALIBRATE=off``, else
    from the cache file, else measured now (``again``, or ``CONVSPEC_CALIBRATE=again``: measured
    whatever the file holds) and written to it.  A rate a calibration measured as nonsense (not
    positive and finite) keeps its default."""
    global _rates
    setting = os.environ.get("CONVSPEC_CALIBRATE", "").strip().lower()
    if setting not in ("", "off", "again"):
        raise ValueError(f"CONVSPEC_CALIBRATE={setting!r}, but should be 'off', 'again' or unset")
    if setting == "off":
        return dict(DEFAULTS)
    if _rates is not None and not again:
        return _rates
    path = cache_path()
    found = None if again or setting == "again" else _read(path)
    if found is None:
        start = time.perf_counter()
        measured = measure()
        if not consistent(measured):  # measured under load: once more
            measured = measure()
        found = {k: measured[k] if _sensible(measured.get(k)) else DEFAULTS[k] for k in DEFAULTS}
        if consistent(measured):  # a measurement still disturbed serves this process only
            _write(path, found, time.perf_counter() - start)
    _rates = found
    return _rates


def known() -> dict:
    """The rates this process uses if it has read or measured them, else :data:`DEFAULTS`; never
    measures (for estimates made inside a measurement)."""
    return _rates if _rates is not None else DEFAULTS


def consistent(measured: dict) -> bool:
    """Whether a calibration looks undisturbed: every rate measured (none nonsense) and GEMM
    faster per multiply-add than the direct loops, as BLAS is everywhere.  Measured while two
    test workers shared the machine's two cores, GEMM came out at 4.3e9 multiply-adds/s (a
    tenth of the truth, below the direct loops' 5.6e9) and the copy rate as nonsense; kept in
    the cache, it would have steered every later process."""
    return all(_sensible(measured.get(k)) for k in DEFAULTS) and \
        measured["gemm_macs_per_s"] > measured["direct_macs_per_s"]
