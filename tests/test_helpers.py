"""Meta-tests of convspec's own machinery: oracles, bounds, data, layouts, strategies, messages."""

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from convspec import accuracy, reference
from convspec.catalogue import CATALOGUE, CONCEPTS
from convspec.contract import OPS
from convspec.contract import check_conv_args, conv_output_shape
from convspec.property import PropertyFailure
from convspec.strategies import LAYOUTS, as_layout, conv_problems, layout_of, signal_problems

RNG = np.random.default_rng(12345)


@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_reference_signal_agrees_with_scipy(ndim, mode):
    for _ in range(5):
        x = RNG.standard_normal(RNG.integers(4, 9, size=ndim))
        w = RNG.standard_normal(RNG.integers(1, 5, size=ndim))
        np.testing.assert_allclose(reference.correlate(x, w, mode=mode), scipy.signal.correlate(x, w, mode=mode, method="direct"))
        np.testing.assert_allclose(reference.convolve(x, w, mode=mode), scipy.signal.convolve(x, w, mode=mode, method="direct"))


def test_reference_conv_agrees_with_per_channel_scipy():
    x = RNG.standard_normal((2, 6, 9, 7))
    w = RNG.standard_normal((4, 3, 3, 2))  # groups = 2
    y = reference.conv(x, w, stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=2)
    for n in range(2):
        for o in range(4):
            g = o // 2
            want = sum(scipy.signal.correlate(x[n, 3 * g + c], w[o, c], mode="valid") for c in range(3))
            np.testing.assert_allclose(y[n, o], want)


def test_conv_matrix_matches_reference():
    x = RNG.standard_normal((1, 2, 7))
    w = RNG.standard_normal((2, 2, 3))
    kw = dict(stride=(2,), padding=((2, 1),), dilation=(2,), groups=1)
    a = reference.conv_matrix(x.shape, w, **kw)
    np.testing.assert_allclose(a @ x.ravel(), reference.conv(x, w, **kw).ravel())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exact_mode_sums_are_exact(dtype):
    x = accuracy.exact_array(RNG, (1, 11, 40), dtype, exponent=-3)
    w = accuracy.exact_array(RNG, (5, 11, 7), dtype, exponent=2)
    assert accuracy.exact_fits(11 * 7, dtype)
    kw = dict(stride=(1,), padding=((3, 3),), dilation=(1,), groups=1)
    low = reference.conv(x, w, acc=dtype, **kw)
    high = reference.conv(x, w, acc=np.longdouble, **kw)
    assert np.array_equal(low.astype(np.longdouble), high)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_direct_bound_holds_for_plain_summation_and_catches_float32(dtype):
    x = RNG.standard_normal((2, 5, 30)).astype(dtype)
    w = RNG.standard_normal((3, 5, 4)).astype(dtype)
    kw = dict(stride=(1,), padding=((1, 1),), dilation=(1,), groups=1)
    exact = reference.conv(x, w, acc=np.longdouble, **kw)
    bound = accuracy.direct_bound("conv", (x, w), kw, dtype)
    plain = reference.conv(x, w, acc=dtype, **kw)
    assert np.all(np.abs(plain - exact) <= bound)
    if dtype == np.float64:
        lowered = reference.conv(x.astype(np.float32), w.astype(np.float32), acc=np.float32, **kw)
        assert np.any(np.abs(lowered - exact) > bound)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fft_bound_holds_for_scipy_fft_and_catches_float32(dtype):
    from impls import fft

    for _ in range(5):
        x = (RNG.standard_normal((1, 3, 20, 17)) * 10.0 ** RNG.integers(-3, 4)).astype(dtype)
        w = RNG.standard_normal((2, 3, 5, 4)).astype(dtype)
        kw = dict(stride=(1, 2), padding=((2, 0), (1, 3)), dilation=(1, 1), groups=1)
        exact = reference.conv(x, w, acc=np.longdouble, **kw)
        bound = accuracy.fft_bound("conv", (x, w), kw, dtype)
        assert np.all(np.abs(fft.conv(x, w, **kw) - exact) <= bound)
        if dtype == np.float64:
            lowered = fft.conv(x.astype(np.float32), w.astype(np.float32), **kw)
            assert np.any(np.abs(lowered - exact) > bound)


@pytest.mark.parametrize("kind", LAYOUTS)
def test_layouts_keep_values_and_are_not_c_contiguous(kind):
    a = RNG.standard_normal((3, 4, 5))
    v = as_layout(a, kind)
    assert np.array_equal(v, a)
    assert not v.flags.c_contiguous or kind == "offset"
    assert layout_of(v) == kind and layout_of(a) is None
    if kind == "offset":
        assert v.base is not None and v.__array_interface__["data"][0] != v.base.__array_interface__["data"][0]


@settings(max_examples=200, deadline=None, database=None)
@given(st.data())
def test_conv_problems_are_valid(data):
    ndim = data.draw(st.sampled_from([1, 2, 3]))
    p = data.draw(conv_problems(ndim))
    x, w = np.zeros(p.x), np.zeros(p.w)
    check_conv_args(x, w, **p.kwargs)  # raises if the strategy drew an invalid problem
    assert all(o >= 1 for o in conv_output_shape(p.x, p.w, **p.kwargs))
    assert "ConvProblem(" in repr(p)


@settings(max_examples=100, deadline=None, database=None)
@given(st.data())
def test_signal_problems_respect_valid_mode(data):
    ndim = data.draw(st.sampled_from([1, 2, 3]))
    x_shape, w_shape = data.draw(signal_problems(ndim, "valid"))
    assert all(k <= m for m, k in zip(x_shape, w_shape))


def test_catalogue_is_documented_and_covers_every_concept():
    covered = {c for p in CATALOGUE for c in p.concepts}
    assert not set(CONCEPTS) - covered
    for p in CATALOGUE:
        assert p.doc, f"{p.name} has no docstring"
        assert p.statement, f"{p.name} has no statement"
        assert p.op in OPS


def test_messages_read_name_value_but_should_be():
    from convspec.backend import load_backend
    from convspec.property import Context

    prop = CATALOGUE[0]
    ctx = Context(prop, load_backend("naive"), data=None)
    with pytest.raises(PropertyFailure) as e:
        ctx.expect_equal(np.array([1.0, 2.0]), np.array([1.0, 3.0]), "f(x)", "the definition")
    assert str(e.value).startswith("f(x)[1]=2.0, but should be 3.0 (the definition)")
    assert "np.float64" not in str(e.value)
