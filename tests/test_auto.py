"""Meta-tests of ``auto``'s choosing: the timed path (which property-sized problems rarely
reach), the plan cache, and the rank-one test behind the separable path.

Which algorithm wins is not asserted (that is performance, measured in benchmarks/); what is
asserted is that every path gives the definition's result and that a choice, once made, sticks.
"""

import numpy as np
import pytest

from convspec import load_backend
from convspec._contract import reference
from convspec._contract.accuracy import error_bound

import convspec.impls.auto as module

auto = load_backend("auto")


def gaussian(k):
    t = np.arange(k) - (k - 1) / 2
    g = np.exp(-0.5 * (t / (k / 6)) ** 2)
    g = (g / g.sum()).astype(np.float32)
    return g, np.outer(g, g).astype(np.float32)


@pytest.fixture
def timed(monkeypatch):
    """Every problem takes the timed path, with a fresh plan cache."""
    monkeypatch.setattr(module, "MEASURE_ABOVE", 0.0)
    monkeypatch.setattr(module, "SHORTLIST", float("inf"))
    monkeypatch.setattr(module, "_plans", {})
    monkeypatch.setattr(module, "_measured", set())
    return module


def _within(op, y, exact, args, kwargs):
    bound = error_bound("fft", op, args, kwargs, args[0].dtype)
    assert y.shape == exact.shape
    assert np.all(np.abs(y - exact) <= bound), f"{op}: error {float(np.max(np.abs(y - exact)))}, bound {float(np.max(bound))}"


@pytest.mark.parametrize("shape, kshape", [((300,), (9,)), ((40, 33), (5, 4)), ((9, 8, 7), (3, 2, 3))])
@pytest.mark.parametrize("op", ["correlate", "convolve"])
def test_timed_signal_path_is_correct_and_cached(timed, op, shape, kshape):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(shape), rng.standard_normal(kshape)
    exact = getattr(reference, op)(x, w, mode="same")
    first = getattr(auto, op)(x, w, mode="same")
    _within(op, first, exact, (x, w), {"mode": "same"})
    plans = timed.plans()
    assert len(plans) == 1, f"plans={plans}, but should hold this problem's choice"
    second = getattr(auto, op)(x, w, mode="same")
    assert np.array_equal(first, second), "the cached choice should give the first call's result"
    assert timed.plans() == plans


@pytest.mark.parametrize("kw", [dict(stride=1, padding=1), dict(stride=2, padding=1), dict(stride=1, padding=0)])
def test_timed_layer_path_is_correct_and_cached(timed, kw):
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 5, 11, 10)).astype(np.float32), rng.standard_normal((4, 5, 3, 3)).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32)
    full = dict(stride=(kw["stride"],) * 2, padding=((kw["padding"],) * 2,) * 2, dilation=(1, 1), groups=1)
    exact = reference.conv(x, w, acc=np.float64, **full) + bias[:, None, None]
    y = auto.conv(x, w, bias=bias, **full)
    _within("conv", y - bias[:, None, None], exact - bias[:, None, None], (x, w), full)
    (choice,) = timed.plans().values()
    assert choice in {"im2col", "winograd", "winograd-blocks", "fft"}
    assert np.array_equal(auto.conv(x, w, bias=bias, **full), y)


def test_gaussian_is_separable_and_runs_as_two_passes(timed):
    g, w = gaussian(15)
    factors = timed.rank_one(w)
    assert factors is not None, "an outer-product Gaussian should be found rank one"
    u, v = factors
    assert np.abs(np.outer(u, v) - w).sum() <= 2 * np.finfo(np.float32).eps * np.abs(w).sum()
    x = np.random.default_rng(3).standard_normal((70, 64)).astype(np.float32)
    timed_plans = timed._plans
    timed_plans[("signal", x.shape, w.shape, x.dtype.str, "same", True)] = "separable"
    y = auto.convolve(x, w, mode="same")
    _within("convolve", y, reference.convolve(x.astype(np.float64), w.astype(np.float64), mode="same"), (x, w), {"mode": "same"})


@pytest.mark.parametrize("make", [
    lambda rng: rng.standard_normal((5, 5)),                                  # generic: rank 5
    lambda rng: np.outer(rng.standard_normal(5), rng.standard_normal(5)) + 1e-6 * rng.standard_normal((5, 5)),
    lambda rng: np.eye(4),                                                    # rank 4
], ids=["random", "nearly-rank-one", "identity"])
def test_kernels_that_are_not_rank_one_are_not_split(make):
    assert module.rank_one(make(np.random.default_rng(4))) is None
