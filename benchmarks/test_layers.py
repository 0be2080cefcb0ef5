"""pytest-benchmark: layers (ResNet-50 at batch 1 and 8 with ``--resnet``, else a quick set)
for the bundled backends and PyTorch when installed.  Run: ``pytest benchmarks [--resnet]``.

Each method is timed in its own block after an untimed warm-up call, which also checks the
result against the reference: fast and wrong is worthless.
"""

import functools
import importlib.util

import numpy as np
import pytest

from convspec import load_backend
from convspec.bench.engine import check_result, oracle

from problems import LAYERS_QUICK, RESNET50, conv_arguments, conv_flops, layer_problem

BACKENDS = ["auto", "im2col", "winograd", "fft", "numba", "naive"]
#: Backends run on the quick layers only (plain loops: ResNet layers would take minutes each).
SMALL_ONLY = {"numba", "naive"}
HAS_TORCH = importlib.util.find_spec("torch") is not None


def pytest_generate_tests(metafunc):
    if "descriptor" in metafunc.fixturenames:
        if metafunc.config.getoption("resnet"):
            cases = [(d, b) for b in (1, 8) for d in RESNET50]
        else:
            cases = [(d, None) for d in LAYERS_QUICK]
        metafunc.parametrize(("descriptor", "batch"), cases,
                             ids=[d if b is None else f"mb{b}{d}" for d, b in cases])


@functools.lru_cache(maxsize=4)
def _exact(descriptor, batch):
    problem = layer_problem(descriptor, batch)
    return oracle(problem, conv_arguments(descriptor, np.random.default_rng(0), batch=batch)[:2])[0]


def _checked(fn, descriptor, batch, accuracy):
    """Untimed: the layer's output checked as ``convspec bench`` checks it (the same oracle and
    bound; ``accuracy`` is the method's class, the bound is the normwise one for every method)."""
    x, w, kw = conv_arguments(descriptor, np.random.default_rng(0), batch=batch)
    wrong = check_result(fn(x, w, **kw), _exact(descriptor, batch), layer_problem(descriptor, batch), (x, w))
    assert wrong is None, f"wrong result: not timed ({wrong})"


def _group(descriptor, batch):
    return descriptor if batch is None else f"mb{batch}{descriptor}"


def _timed(benchmark, fn, accuracy, descriptor, batch, group=None):
    """Check ``fn`` on the layer (untimed warm-up), then time it in its own block."""
    _checked(fn, descriptor, batch, accuracy)
    x, w, kw = conv_arguments(descriptor, np.random.default_rng(0), batch=batch)
    benchmark.group = group or _group(descriptor, batch)
    benchmark.extra_info["flops"] = conv_flops(descriptor, batch)
    benchmark(fn, x, w, **kw)


def _torch_conv(x, w, **kw):
    import torch

    with torch.no_grad():
        return torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=kw["stride"],
                                          padding=tuple(a for a, _ in kw["padding"])).numpy()


def _method(target):
    """``(conv, accuracy class)`` of a bundled backend, or of PyTorch for ``"torch"``."""
    if target == "torch":
        return _torch_conv, "undeclared"
    backend = load_backend(target)
    return backend.conv, backend.capabilities.accuracy


@pytest.mark.parametrize("target", BACKENDS)
def test_conv(benchmark, target, descriptor, batch):
    if target in SMALL_ONLY and batch is not None:
        pytest.skip(f"{target} runs on the quick layers only")
    _timed(benchmark, *_method(target), descriptor, batch)


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed")
def test_conv_torch(benchmark, descriptor, batch):
    _timed(benchmark, *_method("torch"), descriptor, batch)


#: Later rounds of the acceptance comparison (auto against PyTorch, ResNet-50 at batch 1), run
#: minutes after the first (test_conv, test_conv_torch) and each other: on a shared machine a
#: burst of load can cover one whole block, and the report takes the median over the rounds.
ROUNDS = (1, 2)


@pytest.mark.parametrize(("round_", "layer", "target"),
                         [(r, d, t) for r in ROUNDS for d in RESNET50 for t in ("auto", "torch")],
                         ids=[f"round{r}-mb1{d}-{t}" for r in ROUNDS for d in RESNET50 for t in ("auto", "torch")])
def test_conv_round(benchmark, round_, layer, target, request):
    if not request.config.getoption("resnet"):
        pytest.skip("rounds of the ResNet-50 comparison: pass --resnet")
    if target == "torch" and not HAS_TORCH:
        pytest.skip("PyTorch is not installed")
    _timed(benchmark, *_method(target), layer, 1, group=f"{_group(layer, 1)} round {round_}")
