"""pytest-benchmark: single-channel 1-D and 2-D ``same`` convolution, bundled backends against
the peers users would pick instead (scipy.signal direct / FFT / overlap-add, scipy.ndimage,
numpy.convolve).  ``--full`` runs the whole problem sets of ``problems.py``.

Each method runs in its own block after an untimed warm-up that checks the result.
"""

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal

from convspec import load_backend, reference

from problems import IMAGES_2D, SIGNALS_1D

QUICK_1D = [(100_000, 8), (100_000, 64), (100_000, 512)]
QUICK_2D = [(256, 3), (256, 7), (256, 15), (256, 31)]
BUNDLED = ["auto", "numba", "fft"]


def _peers(ndim):
    peers = {
        "scipy.direct": lambda x, w: scipy.signal.convolve(x, w, mode="same", method="direct"),
        "scipy.fft": lambda x, w: scipy.signal.fftconvolve(x, w, mode="same"),
        "scipy.oaconvolve": lambda x, w: scipy.signal.oaconvolve(x, w, mode="same"),
    }
    if ndim == 1:
        peers["numpy.convolve"] = lambda x, w: _numpy_same(x, w)
    else:
        peers["scipy.ndimage"] = lambda x, w: _ndimage_same(x, w)
    return peers


def _numpy_same(x, w):
    full = np.convolve(x, w, mode="full")
    start = (w.size - 1) // 2
    return full[start:start + x.size]


def _ndimage_same(x, w):
    # ndimage centres the (flipped) kernel at k // 2; the contract's same starts at (k - 1) // 2
    origin = [(k - 1) // 2 - k // 2 for k in w.shape]
    return scipy.ndimage.convolve(x, w, mode="constant", origin=origin)


def _methods(ndim):
    methods = {name: (lambda b: lambda x, w: b.convolve(x, w, mode="same"))(load_backend(name)) for name in BUNDLED}
    methods.update(_peers(ndim))
    return methods


def _check(fn, x, w):
    y = fn(x, w)
    exact = reference.convolve(x.astype(np.float64), w.astype(np.float64), mode="same") if x.size * w.size < 5e7 else None
    if exact is not None:
        scale = np.abs(x).max() * np.abs(w).sum()
        assert y.shape == exact.shape and np.max(np.abs(y - exact)) <= 1e-4 * scale, "wrong result: not timed"


def pytest_generate_tests(metafunc):
    full = metafunc.config.getoption("full")
    if "signal" in metafunc.fixturenames:
        metafunc.parametrize("signal", SIGNALS_1D if full else QUICK_1D, ids=lambda p: f"n{p[0]}k{p[1]}")
    if "image" in metafunc.fixturenames:
        metafunc.parametrize("image", IMAGES_2D if full else QUICK_2D, ids=lambda p: f"{p[0]}sq-k{p[1]}")


@pytest.mark.parametrize("method", list(_methods(1)))
def test_convolve_1d(benchmark, method, signal):
    n, k = signal
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(n).astype(np.float32), rng.standard_normal(k).astype(np.float32)
    fn = _methods(1)[method]
    _check(fn, x, w)
    benchmark.group = f"1-D n={n} k={k}"
    benchmark(fn, x, w)


@pytest.mark.parametrize("method", list(_methods(2)))
def test_convolve_2d(benchmark, method, image):
    side, k = image
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((side, side)).astype(np.float32), rng.standard_normal((k, k)).astype(np.float32)
    fn = _methods(2)[method]
    _check(fn, x, w)
    benchmark.group = f"2-D {side}x{side} k={k}"
    benchmark(fn, x, w)
