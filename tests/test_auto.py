"""Meta-tests of ``auto``'s choosing: the timed path (which property-sized problems rarely
reach), the plan cache, and the rank-one test behind the separable path.

Which algorithm wins is not asserted (that is performance, measured in benchmarks/); what is
asserted is that every path gives the definition's result and that a choice, once made, sticks.
"""

import os

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
    monkeypatch.setattr(module, "_ready", {})
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
    assert choice in {"im2col", "winograd", "winograd-blocks", "fft", "blocked"}
    assert np.array_equal(auto.conv(x, w, bias=bias, **full), y)


@pytest.mark.parametrize("x_shape, w_shape, groups", [((1, 6, 9, 8), (4, 6, 1, 1), 1), ((2, 6, 9, 8), (4, 3, 3, 3), 2),
                                                      ((1, 6, 9, 8), (6, 1, 3, 3), 6), ((1, 4, 30), (4, 1, 5), 4),
                                                      ((1, 4, 5, 6, 7), (4, 1, 3, 3, 3), 4)])
def test_a_layer_seen_before_runs_ready_and_still_rejects_bad_arguments(timed, monkeypatch, x_shape, w_shape,
                                                                          groups):
    """A call repeated in the same form runs the planned algorithm with its geometry kept
    (:data:`module._ready`), skipping validation; the result is the first call's, a bias is
    still checked, and arguments that equal the checked ones without being valid (1.0 for 1)
    still fail."""
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal(x_shape).astype(np.float32), rng.standard_normal(w_shape).astype(np.float32)
    bias = rng.standard_normal(w_shape[0]).astype(np.float32)
    kw = dict(stride=1, padding=1, groups=groups)
    first = auto.conv(x, w, bias=bias, **kw)
    assert len(timed._ready) == 1, "a validated plain call should be kept ready"
    nd = x.ndim - 2
    full = dict(stride=(1,) * nd, padding=((1, 1),) * nd, dilation=(1,) * nd, groups=groups)
    b = bias.reshape((-1,) + (1,) * nd)
    _within("conv", first - b, reference.conv(x, w, acc=np.float64, **full), (x, w), full)
    assert np.array_equal(auto.conv(x, w, bias=bias, **kw), first), "the ready path should repeat the first result"
    same = dict(stride=[np.int64(1)] * nd, padding=[[1, True]] * nd, groups=np.int32(groups))
    assert np.array_equal(auto.conv(x, w, bias=bias, **same), first) and len(timed._ready) == 2, \
        "lists and NumPy integers are plain arguments too"
    with monkeypatch.context() as patch:  # a repeated call does not validate again
        patch.setattr(module, "check_conv_args", lambda *a: pytest.fail("validated a call seen before"))
        assert np.array_equal(auto.conv(x, w, bias=bias, **same), first)
    assert np.array_equal(auto.conv(x[:, :, ::-1].copy()[:, :, ::-1], w, bias=bias, **kw), first)
    assert np.array_equal(auto.conv(np.asfortranarray(x), w, bias=bias, **kw), first), "any memory layout"
    with pytest.raises(ValueError, match="bias"):
        auto.conv(x, w, bias=bias[:-1], **kw)
    for bad in (dict(kw, stride=1.0), dict(kw, stride=(1.0,) * nd), dict(kw, stride=[1.0] * nd),
                dict(kw, groups=float(groups)), dict(same, padding=[[1, 1.0]] * nd)):
        with pytest.raises((ValueError, TypeError), match="stride|groups|padding"):
            auto.conv(x, w, **bad)
    with pytest.raises((ValueError, TypeError), match="w"):
        auto.conv(x, w.astype(np.float64), **kw)


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


# -- calibration: the cost model's rates measured where auto runs --------------------------------

from convspec.impls import _calibration  # noqa: E402


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty user cache and no rates measured yet in this process."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("CONVSPEC_CALIBRATE", raising=False)
    monkeypatch.setattr(_calibration, "_rates", None)
    return tmp_path


def test_calibration_measures_once_and_keeps_the_rates_in_the_users_cache(cache, monkeypatch):
    measured, real = [], _calibration.measure
    monkeypatch.setattr(_calibration, "measure", lambda: measured.append(real()) or measured[-1])
    rates = _calibration.rates()
    assert set(rates) == set(_calibration.DEFAULTS) and all(v > 0 and np.isfinite(v) for v in rates.values())
    path = _calibration.cache_path()
    assert path.startswith(str(cache))
    if not _calibration.consistent(measured[-1]):  # disturbed twice by a loaded machine: not kept
        assert len(measured) == 2 and not os.path.exists(path)
        return
    assert os.path.isfile(path)
    monkeypatch.setattr(_calibration, "_rates", None)  # a later process: reads the file, measures nothing
    monkeypatch.setattr(_calibration, "measure", lambda: pytest.fail("measured again, but the cache holds the rates"))
    assert _calibration.rates() == rates


def test_calibration_again_off_and_a_damaged_cache(cache, monkeypatch):
    calls = []
    fake = {k: v * 2 for k, v in _calibration.DEFAULTS.items()}
    monkeypatch.setattr(_calibration, "measure", lambda: calls.append(1) or dict(fake))
    assert _calibration.rates() == fake and len(calls) == 1
    monkeypatch.setattr(_calibration, "_rates", None)
    monkeypatch.setenv("CONVSPEC_CALIBRATE", "again")
    assert _calibration.rates() == fake and len(calls) == 2, "CONVSPEC_CALIBRATE=again should measure anew"
    monkeypatch.setenv("CONVSPEC_CALIBRATE", "off")
    assert _calibration.rates() == _calibration.DEFAULTS and len(calls) == 2
    monkeypatch.setenv("CONVSPEC_CALIBRATE", "sometimes")
    with pytest.raises(ValueError, match="CONVSPEC_CALIBRATE"):
        _calibration.rates()
    monkeypatch.delenv("CONVSPEC_CALIBRATE")
    monkeypatch.setattr(_calibration, "_rates", None)
    with open(_calibration.cache_path(), "w") as f:
        f.write('{"rates": {"gemm_macs_per_s": -1}}')  # damaged: measured again
    assert _calibration.rates() == fake and len(calls) == 3
    # nonsense measured (a zero time, a negative rate) keeps the default for that rate
    monkeypatch.setattr(_calibration, "_rates", None)
    monkeypatch.setattr(_calibration, "measure", lambda: {**fake, "gemm_macs_per_s": float("inf"),
                                                           "copy_bytes_per_s": -3.0})
    rates = _calibration.rates(again=True)
    assert rates["gemm_macs_per_s"] == _calibration.DEFAULTS["gemm_macs_per_s"]
    assert rates["copy_bytes_per_s"] == _calibration.DEFAULTS["copy_bytes_per_s"]


def test_a_disturbed_calibration_is_measured_again_and_never_kept(cache, monkeypatch):
    """GEMM measured slower than the direct loops (two workers on two cores) is measured once
    more; disturbed again, it serves the process but is not written for later ones."""
    good = dict(_calibration.DEFAULTS)
    disturbed = {**good, "gemm_macs_per_s": good["direct_macs_per_s"] / 2}
    answers = [disturbed, good]
    monkeypatch.setattr(_calibration, "measure", lambda: dict(answers.pop(0)))
    assert _calibration.rates() == good and not answers, "measured twice, the second kept"
    assert os.path.isfile(_calibration.cache_path())
    os.remove(_calibration.cache_path())
    monkeypatch.setattr(_calibration, "_rates", None)
    answers[:] = [disturbed, disturbed]
    assert _calibration.rates() == disturbed and not answers
    assert not os.path.exists(_calibration.cache_path()), "a disturbed calibration should not be kept"
    assert not _calibration.consistent({**good, "copy_bytes_per_s": float("nan")})


def test_calibration_without_a_writable_cache_still_gives_rates(cache, monkeypatch):
    blocked = cache / "blocked"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    fake = dict(_calibration.DEFAULTS)
    monkeypatch.setattr(_calibration, "measure", lambda: dict(fake))
    assert _calibration.rates() == fake


def test_the_cost_model_runs_on_the_calibrated_rates(monkeypatch):
    """A machine whose GEMM is 100 times slower makes im2col's estimate (nearly) 100 times larger."""
    shapes = ((1, 64, 28, 28), (64, 64, 1, 1), (1, 64, 28, 28), (1, 1), ((0, 0), (0, 0)), (1, 1), 1, 4)
    monkeypatch.setattr(_calibration, "_rates", dict(_calibration.DEFAULTS))
    monkeypatch.delenv("CONVSPEC_CALIBRATE", raising=False)
    fast = module._layer_estimates(*shapes)["im2col"] - module.CALL_SECONDS
    slow_rates = {**_calibration.DEFAULTS, "gemm_macs_per_s": _calibration.DEFAULTS["gemm_macs_per_s"] / 100}
    monkeypatch.setattr(_calibration, "_rates", slow_rates)
    slow = module._layer_estimates(*shapes)["im2col"] - module.CALL_SECONDS
    assert slow == pytest.approx(100 * fast, rel=1e-9)


def test_candidates_without_a_gemm_are_timed_first_once_the_blas_is_idle(monkeypatch):
    """With the BLAS on several threads, ``_choose`` waits for its idle threads to stop spinning,
    then times the candidates that run no GEMM before the others (a GEMM's spinning threads
    would take the cores their split needs)."""
    events, clock = [], iter(range(10**6))
    monkeypatch.setattr(module.time, "perf_counter", lambda: float(next(clock)))  # a stand-in clock
    monkeypatch.setattr(module, "blas_threads", lambda: 2)
    monkeypatch.setattr(module, "wait_until_idle", lambda limit: events.append("wait"))
    name, _ = module._choose(None, {"im2col": 1.0, "blocked": 1.0, "winograd": 1.0},
                             lambda n: events.append(n) or 0)
    assert events[0] == "wait" and events.count("wait") == 1
    runs = events[1:]
    assert runs.index("im2col") > max(i for i, n in enumerate(runs) if n == "blocked"), runs
    monkeypatch.setattr(module, "blas_threads", lambda: 1)
    events.clear()
    module._choose(None, {"im2col": 1.0, "blocked": 1.0}, lambda n: events.append(n) or 0)
    assert "wait" not in events, "one BLAS thread: nothing spins, nothing to wait for"
