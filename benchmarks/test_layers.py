"""pytest-benchmark: bundled backends on a few layer problems (run: pytest benchmarks).

Each timed result is first checked against the reference, untimed: fast and wrong is
worthless.
"""

import numpy as np
import pytest

from convspec import load_backend, reference
from convspec.accuracy import error_bound

from problems import LAYERS, conv_arguments

BACKENDS = ["im2col", "fft", "numba"]


@pytest.mark.parametrize("descriptor", LAYERS)
@pytest.mark.parametrize("target", BACKENDS)
def test_conv(benchmark, target, descriptor):
    backend = load_backend(target)
    x, w, kw = conv_arguments(descriptor, np.random.default_rng(0))
    y = backend.conv(x, w, **kw)  # untimed warm-up (compiles Numba) and correctness check
    exact = reference.conv(x, w, acc=np.float64, **kw)
    assert np.all(np.abs(y - exact) <= 2 * error_bound(backend.capabilities.accuracy, "conv", (x, w), kw, x.dtype) + 1e-6)
    benchmark.group = descriptor
    benchmark(backend.conv, x, w, **kw)
