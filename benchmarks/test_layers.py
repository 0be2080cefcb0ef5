"""pytest-benchmark: layers (ResNet-50 with ``--resnet``, else a quick set) for the bundled
backends and PyTorch when installed.  Run: ``pytest benchmarks [--resnet]``.

Each method is timed in its own block after an untimed warm-up call, which also checks the
result against the reference: fast and wrong is worthless.
"""

import importlib.util

import numpy as np
import pytest

from convspec import load_backend, reference
from convspec.accuracy import error_bound

from problems import LAYERS_QUICK, RESNET50, conv_arguments, conv_flops

BACKENDS = ["auto", "im2col", "fft", "numba"]
HAS_TORCH = importlib.util.find_spec("torch") is not None


def _layers(config):
    return RESNET50 if config.getoption("resnet") else LAYERS_QUICK


def pytest_generate_tests(metafunc):
    if "descriptor" in metafunc.fixturenames:
        metafunc.parametrize("descriptor", _layers(metafunc.config))


def _checked(fn, x, w, kw, accuracy):
    y = fn(x, w, **kw)
    exact = reference.conv(x, w, acc=np.float64, **kw)
    bound = 2 * error_bound(accuracy, "conv", (x, w), kw, x.dtype) + 1e-5 * np.abs(exact).max()
    assert np.all(np.abs(y - exact) <= bound), "wrong result: not timed"


@pytest.mark.parametrize("target", BACKENDS)
def test_conv(benchmark, target, descriptor):
    backend = load_backend(target)
    x, w, kw = conv_arguments(descriptor, np.random.default_rng(0))
    _checked(backend.conv, x, w, kw, backend.capabilities.accuracy)  # untimed warm-up and check
    benchmark.group = descriptor
    benchmark.extra_info["flops"] = conv_flops(descriptor)
    benchmark(backend.conv, x, w, **kw)


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed")
def test_conv_torch(benchmark, descriptor):
    import torch

    x, w, kw = conv_arguments(descriptor, np.random.default_rng(0))
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)
    pad = kw["padding"][0][0]

    def run(x_, w_, **_):
        with torch.no_grad():
            return torch.nn.functional.conv2d(xt, wt, stride=kw["stride"], padding=pad).numpy()

    _checked(run, x, w, kw, "undeclared")
    benchmark.group = descriptor
    benchmark.extra_info["flops"] = conv_flops(descriptor)
    benchmark(run, x, w)


def test_gemm_peak(benchmark):
    """The machine's float32 GEMM rate in this run: the roofline the layers are measured against."""
    from threadpoolctl import threadpool_info

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((1024, 1024)).astype(np.float32) for _ in range(2))
    np.matmul(a, b)
    benchmark.group = "GEMM"
    benchmark.extra_info["flops"] = 2.0 * 1024**3
    benchmark.extra_info["blas"] = [{k: info.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
                                    for info in threadpool_info()]
    benchmark(np.matmul, a, b)
