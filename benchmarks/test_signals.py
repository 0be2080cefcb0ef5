"""pytest-benchmark: single-channel ``same`` convolution in 1-D, 2-D and 3-D, and separable
(Gaussian) kernels, bundled backends against the peers users would pick instead
(scipy.signal direct / FFT / overlap-add, scipy.ndimage, numpy.convolve).

The quick sets run by default; ``--full`` runs the whole problem sets of ``problems.py``.
Each method runs in its own block after an untimed warm-up call that checks the result
against the oracle of ``convspec bench`` (convspec.bench.engine): fast and wrong
is worthless.  Methods whose cost grows with the kernel (plain loops, SciPy's direct method)
run only where that cost stays reasonable.
"""

import math

import numpy as np
import pytest
import scipy.ndimage

from convspec import load_backend
from convspec.bench import peers
from convspec.bench.engine import check_result, oracle
from convspec.bench.problems import parse

from problems import (
    IMAGES_2D,
    QUICK_1D,
    QUICK_2D,
    QUICK_3D,
    QUICK_SEPARABLE,
    SEPARABLE,
    SIGNALS_1D,
    VOLUMES_3D,
    gaussian,
)

BUNDLED = ["auto", "numba", "fft", "naive"]
#: Multiply-adds above which a method is not run: plain NumPy loops, and direct methods.
LIMITS = {"naive": 2e7, "scipy.direct": 6e7, "scipy.ndimage": 1.5e9, "numba": 3e9, "numpy.convolve": 3e9}


def _same(peer):
    return lambda x, w: peer.convolve(x, w, mode="same")


#: The peers of ``convspec bench`` (convspec/bench/peers.py: one definition for both engines).
PEERS = {"scipy.direct": _same(peers.scipy_direct), "scipy.fft": _same(peers.scipy_fft),
         "scipy.oaconvolve": _same(peers.scipy_oaconvolve), "scipy.ndimage": _same(peers.scipy_ndimage),
         "numpy.convolve": _same(peers.numpy)}


def _bundled(name):
    backend = load_backend(name)
    return lambda x, w: backend.convolve(x, w, mode="same")


def methods(ndim):
    """Method name -> ``f(x, w)`` for ``ndim``-D signals: the bundled backends, then the peers."""
    names = BUNDLED + [p for p in PEERS if p != "numpy.convolve" or ndim == 1]
    return {name: _bundled(name) if name in BUNDLED else PEERS[name] for name in names}


def check(fn, x, w):
    """Untimed: ``fn(x, w)`` checked as ``convspec bench`` checks it (the same oracle and bound)."""
    problem = parse(f"convolve n{'x'.join(map(str, x.shape))}k{'x'.join(map(str, w.shape))}")
    wrong = check_result(fn(x, w), oracle(problem, (x, w))[0], problem, (x, w))
    assert wrong is None, f"wrong result: not timed ({wrong})"


def run(benchmark, method, x, w, group):
    macs = x.size * w.size
    if macs > LIMITS.get(method, math.inf):
        pytest.skip(f"{method}: {macs:.2g} multiply-adds is past its limit of {LIMITS[method]:.2g}")
    fn = _bundled(method) if method in BUNDLED else PEERS[method]
    check(fn, x, w)
    benchmark.group = group
    benchmark.extra_info["flops"] = 2.0 * x.size * w.size
    benchmark(fn, x, w)


def pytest_generate_tests(metafunc):
    full = metafunc.config.getoption("full")
    sets = {
        "signal": (SIGNALS_1D if full else QUICK_1D, lambda p: f"n{p[0]}-k{p[1]}"),
        "image": (IMAGES_2D if full else QUICK_2D, lambda p: f"{p[0]}sq-k{p[1]}"),
        "volume": (VOLUMES_3D if full else QUICK_3D, lambda p: f"{p[0]}cube-k{p[1]}"),
        "separable": (SEPARABLE if full else QUICK_SEPARABLE, lambda p: f"{p[0]}sq-gauss{p[1]}"),
    }
    for name, (values, ids) in sets.items():
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, values, ids=ids)


@pytest.mark.parametrize("method", list(methods(1)))
def test_convolve_1d(benchmark, method, signal):
    n, k = signal
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(n).astype(np.float32), rng.standard_normal(k).astype(np.float32)
    run(benchmark, method, x, w, f"1-D n={n} k={k}")


@pytest.mark.parametrize("method", list(methods(2)))
def test_convolve_2d(benchmark, method, image):
    side, k = image
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((side, side)).astype(np.float32), rng.standard_normal((k, k)).astype(np.float32)
    run(benchmark, method, x, w, f"2-D {side}x{side} k={k}")


@pytest.mark.parametrize("method", list(methods(3)))
def test_convolve_3d(benchmark, method, volume):
    side, k = volume
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((side,) * 3).astype(np.float32), rng.standard_normal((k,) * 3).astype(np.float32)
    run(benchmark, method, x, w, f"3-D {side}^3 k={k}")


def _ndimage_passes(x, w, g):
    """What a user who knows the kernel is ``outer(g, g)`` writes: two 1-D ndimage passes."""
    origin = (len(g) - 1) // 2 - len(g) // 2
    y = scipy.ndimage.convolve1d(x, g, axis=0, mode="constant", origin=origin)
    return scipy.ndimage.convolve1d(y, g, axis=1, mode="constant", origin=origin)


@pytest.mark.parametrize("method", list(methods(2)) + ["scipy.ndimage-1d-passes"])
def test_separable_2d(benchmark, method, separable):
    side, k = separable
    g, w = gaussian(k)
    x = np.random.default_rng(0).standard_normal((side, side)).astype(np.float32)
    if method == "scipy.ndimage-1d-passes":
        benchmark.extra_info["flops"] = 2.0 * x.size * 2 * k
        check(lambda x_, w_: _ndimage_passes(x_, w_, g), x, w)
        benchmark.group = f"separable {side}x{side} gaussian k={k}"
        benchmark(_ndimage_passes, x, w, g)
        return
    run(benchmark, method, x, w, f"separable {side}x{side} gaussian k={k}")
