"""Meta-tests of convspec's own machinery: oracles, bounds, data, layouts, strategies, messages."""

import convspec
import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from convspec._contract import accuracy, reference
from convspec._catalogue import CATALOGUE, CONCEPTS
from convspec._contract.functions import OPS
from convspec._contract.functions import check_conv_args, conv_output_shape
from convspec._catalogue.property import PropertyFailure
from convspec._catalogue.strategies import LAYOUTS, as_layout, conv_problems, layout_of, signal_problems

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


def test_tf32_bounds_cover_inputs_rounded_below_the_normal_range():
    # TF32 keeps float32's exponents but 10 significand bits: a subnormal input moves by up to
    # a TF32 subnormal spacing, an absolute error that a huge weight magnifies
    from convspec._contract.arithmetic import round_tf32

    tf32 = {"accumulate": "float32", "products": "tf32"}
    kw = dict(stride=(1,), padding=((1, 0),), dilation=(1,), groups=1)
    tiny = np.float32(np.finfo(np.float32).smallest_subnormal)
    x = (RNG.integers(-5000, 5000, (2, 3, 12)) * tiny).astype(np.float32)
    w = (RNG.standard_normal((2, 3, 3)) * 1e34).astype(np.float32)
    exact = reference.conv(x, w, acc=np.longdouble, **kw)
    rounded = reference.conv(round_tf32(x), round_tf32(w), acc=np.longdouble, **kw)
    for bound in (accuracy.direct_bound("conv", (x, w), kw, np.float32, tf32),
                  accuracy.fft_bound("conv", (x, w), kw, np.float32, tf32)):
        assert np.all(np.abs(rounded - exact) <= bound)
    # the term is an input's spacing times the other operand, not a licence: eight spacings fail
    off = reference.conv(x + np.float32(8 * 2.0**-136), w, acc=np.longdouble, **kw)
    assert np.any(np.abs(off - exact) > accuracy.direct_bound("conv", (x, w), kw, np.float32, tf32))
    assert accuracy.input_underflow(np.float32) == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fft_bound_holds_for_scipy_fft_and_catches_float32(dtype):
    from convspec.impls import fft

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
    from convspec._engine.backend import load_backend
    from convspec._catalogue.property import Context

    prop = CATALOGUE[0]
    ctx = Context(prop, load_backend("naive"), data=None)
    with pytest.raises(PropertyFailure) as e:
        ctx.expect_equal(np.array([1.0, 2.0]), np.array([1.0, 3.0]), "f(x)", "the definition")
    assert str(e.value).startswith("f(x)[1]=2.0, but should be 3.0 (the definition)")
    assert "np.float64" not in str(e.value)


# ---------------------------------------------------------------- known failures, definition, reproductions


def test_known_failure_entries_parse_and_match():
    from convspec._engine import known_failures as known

    entries = known.parse("# comment\nconv_*  # why\nmine::pool_definition\nTestA::test_conv_large[float64-*]\n", "f")
    assert [str(e) for e in entries] == ["conv_*", "mine::pool_definition", "TestA::test_conv_large[float64-*]"]
    assert entries[0].reason == "why" and entries[0].source == "f:2"
    assert entries[0].matches("conv_definition") and not entries[0].matches("correlate_definition")
    assert entries[1].matches("pool_definition", ("mine",)) and not entries[1].matches("pool_definition", ("other",))
    assert entries[2].matches("conv_large", ("TestA",), "float64-2d")
    assert not entries[2].matches("conv_large", ("TestA",), "float32-2d")
    assert not entries[2].matches("conv_large", ("TestB",), "float64-2d")
    # a pytest node id keeps the class as WHO
    (e,) = known.parse("tests/test_x.py::TestA::test_conv_large")
    assert e.who == "TestA" and e.matches("conv_large", ("TestA",))
    with pytest.raises(ValueError, match="one entry per line"):
        known.parse("conv_large conv_definition")
    assert known.unused(entries, {entries[0]}) == ["f:3: 'mine::pool_definition' matches no property that ran",
                                                   "f:4: 'TestA::test_conv_large[float64-*]' matches no property that ran"]


def test_deviation_from_the_definition():
    from convspec._contract import reference
    from convspec._contract.agreement import assert_matches_definition, disagreement

    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 2, 9)).astype(np.float32), rng.standard_normal((3, 2, 3)).astype(np.float32)
    kw = dict(stride=(1,), padding=((1, 1),), dilation=(1,), groups=1)
    y = reference.conv(x, w, **kw).astype(np.float32)
    assert disagreement(y, "conv", (x, w), kw, "direct") is None
    bad = y.copy()
    bad[0, 1, 4] += 1e-3
    why = disagreement(bad, "conv", (x, w), kw, "direct")
    assert why.startswith("conv(float32[1, 2, 9], float32[3, 2, 3])[0, 1, 4]=") and "1 of 27 outputs differ" in why
    with pytest.raises(AssertionError, match=r"\[0, 1, 4\]"):
        assert_matches_definition(bad, "conv", x, w, accuracy="direct", **kw)
    assert "shape=(1, 3, 8)" in disagreement(bad[..., :8], "conv", (x, w), kw, "direct")
    # outputs a NaN reaches are left to the special-value properties; the others still count
    xn = x.copy()
    xn[0, 0, 0] = np.nan
    yn = reference.conv(xn, w, **kw).astype(np.float32)
    assert disagreement(np.where(np.isnan(yn), 0, yn).astype(np.float32), "conv", (xn, w), kw, "direct") is None
    yn[0, 0, 8] += 1
    assert disagreement(yn, "conv", (xn, w), kw, "direct") is not None
    # a sum past float32's range is +inf in float32
    big = np.full((1, 1, 2), 3e38, np.float32)
    assert disagreement(np.full((1, 1, 1), np.inf, np.float32), "conv", (big, np.ones((1, 1, 2), np.float32)),
                     dict(stride=(1,), padding=((0, 0),), dilation=(1,), groups=1), "direct") is None
    # an invalid call has no definition to disagree with
    assert disagreement(y, "conv", (x, w[:, :1]), kw, "direct") is None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_reproduction_literals_give_back_every_value(dtype):
    from convspec._engine.reproduction import _literal

    info = np.finfo(dtype)
    a = np.array([0.1, -0.0, np.nan, np.inf, -np.inf, info.tiny / 8, info.max, -info.smallest_subnormal, 1 / 3],
                 dtype=dtype)
    back = eval(_literal(a), {"np": np})
    assert back.dtype == a.dtype and np.array_equal(back, a, equal_nan=True)
    assert np.array_equal(np.signbit(back), np.signbit(a))


def test_memory_layout_compares_a_backend_with_itself_nan_included():
    """A backend that answers NaN the same way on every layout keeps memory_layout: its NaN is
    the definition's business (max_pool_definition fails), not a layout bug."""
    from convspec.impls import naive
    from convspec._catalogue.property import REGISTRY
    from convspec._engine.runner import run_property

    class NaNWhereNegative:
        convspec_capabilities = {"ops": ["max_pool"]}

        @staticmethod
        def max_pool(x, **kw):
            y = naive.max_pool(x, **kw)
            return np.where(y < 0, np.nan, y).astype(x.dtype)

    backend = convspec.load_backend(NaNWhereNegative())
    assert run_property(REGISTRY["max_pool_memory_layout"], backend, profile="quick", seed=0).status == "passed"
    assert run_property(REGISTRY["max_pool_definition"], backend, profile="quick", seed=0).status == "failed"


def test_capabilities_per_function():
    """ONNX Runtime's form: max_pool in both dtypes, avg_pool in float32 only."""
    from convspec._engine.backend import Capabilities, LoadError
    from convspec.impls import naive
    from convspec._catalogue.property import REGISTRY
    from convspec._engine.runner import run_property

    caps = Capabilities.declared({"dtypes": {"max_pool": ["float32", "float64"], "avg_pool": ["float32"]},
                                  "ndims": {"*": [2]}})
    assert caps.dtypes_for("avg_pool") == ("float32",) and caps.dtypes_for("max_pool") == ("float32", "float64")
    assert caps.ndims_for("conv") == (2,) and caps.narrowed_for("max_pool") and caps.narrowed_for("avg_pool")
    assert Capabilities.declared(caps.as_json()).as_json() == caps.as_json()  # crosses the wire unchanged
    with pytest.raises(LoadError, match=r"convspec_capabilities\['dtypes'\] names 'avgpool'"):
        Capabilities.declared({"dtypes": {"avgpool": ["float32"]}})
    with pytest.raises(LoadError, match=r"\['dtypes'\]\['avg_pool'\]=\[\], but should name at least one"):
        Capabilities.declared({"dtypes": {"avg_pool": []}})

    class Lenient:  # declares avg_pool float32-only, but answers float64 anyway
        convspec_capabilities = {"ops": ["avg_pool"], "dtypes": {"avg_pool": ["float32"]}}
        avg_pool = staticmethod(naive.avg_pool)

    backend = convspec.load_backend(Lenient())
    assert REGISTRY["avg_pool_definition"].allowed(backend)["dtype"] == ("float32",)
    result = run_property(REGISTRY["avg_pool_declared_capabilities"], backend, profile="quick", seed=0)
    assert result.status == "failed" and "dtype='float64' is declared unsupported" in result.message


def test_rejects_bad_arguments_in_a_library_s_own_form():
    """A library raising RuntimeError in its own words passes when it declares so, and still
    fails when it accepts a bad argument."""
    from convspec._engine.backend import LoadError
    from convspec.impls import naive
    from convspec._catalogue.property import REGISTRY
    from convspec._engine.runner import run_property

    def own_words(fn):
        def op(x, **kw):
            try:
                return fn(x, **kw)
            except ValueError:
                raise RuntimeError("invalid configuration") from None
        return staticmethod(op)

    class Library:
        convspec_capabilities = {"ops": ["max_pool"], "validates_arguments": {"raises": ["RuntimeError"]}}
        max_pool = own_words(naive.max_pool)

    class Strict(Library):
        convspec_capabilities = {"ops": ["max_pool"], "validates_arguments": True}

    class Accepting(Library):
        max_pool = staticmethod(lambda x, **kw: np.zeros((1,), x.dtype))

    prop = REGISTRY["max_pool_rejects_bad_arguments"]
    assert run_property(prop, convspec.load_backend(Library()), profile="quick", seed=0).status == "passed"
    strict = run_property(prop, convspec.load_backend(Strict()), profile="quick", seed=0)
    assert strict.status == "failed" and "but should raise ValueError naming" in strict.message
    accepting = run_property(prop, convspec.load_backend(Accepting()), profile="quick", seed=0)
    assert accepting.status == "failed" and "but should raise RuntimeError" in accepting.message
    with pytest.raises(LoadError, match="validates_arguments"):
        convspec.Capabilities.declared({"validates_arguments": {"raises": "RuntimeError"}})


def test_restrictions_are_declared_by_name_per_function():
    caps = convspec.Capabilities.declared({"restrictions": {"conv": ["odd_kernels"], "*": ["no_ceil_mode"]}})
    assert caps.restrictions_for("conv") == ("odd_kernels",)
    assert caps.restrictions_for("max_pool") == ("no_ceil_mode",) and caps.restrictions_for("correlate") == ()
    assert convspec.Capabilities.declared({"restrictions": ["integer_p"]}).restrictions == {"lp_pool": ("integer_p",)}
    for bad, words in [({"restrictions": ["odd"]}, "'odd', but should use only integer_p"),
                       ({"restrictions": {"pool": ["no_ceil_mode"]}}, "names 'pool'"),
                       ({"restrictions": {"conv": ["integer_p"]}}, "applies only to lp_pool"),
                       ({"restrictions": "odd_kernels"}, "should be a list")]:
        with pytest.raises(convspec.LoadError, match=words):
            convspec.Capabilities.declared(bad)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_each_restriction_builds_a_valid_case_it_excludes(data):
    """The case ``<op>_declared_restrictions`` asks for is excluded by the restriction and is a
    valid call of the contract (the reference computes it)."""
    from convspec._catalogue.property import Context
    from convspec._catalogue.drawing import call_data, maker
    from convspec._contract.restrictions import RESTRICTIONS

    name = data.draw(st.sampled_from(sorted(RESTRICTIONS)))
    r = RESTRICTIONS[name]
    op = data.draw(st.sampled_from(r.ops))
    backend = convspec.load_backend("naive")
    dtype = "float64" if "float64" in r.dtypes else data.draw(st.sampled_from(r.dtypes))
    ctx = Context(CATALOGUE[0], backend, data, {"dtype": dtype, "ndim": data.draw(st.sampled_from([1, 2])),
                                                "mode": "full"}, None, None)
    args, kwargs = call_data(ctx, op, real=True)
    bad_args, bad_kwargs = r.violate(op, args, kwargs, maker(ctx, real=True))
    assert r.excludes(op, bad_args, bad_kwargs), (name, op)
    getattr(backend, op)(*bad_args, **bad_kwargs)  # valid: naive checks every argument, and raises if not


def test_integer_dtypes_are_declared_per_function():
    """int8/uint8 only where the contract defines them, and never assumed; an integer
    restriction needs an integer dtype to be about."""
    caps = convspec.Capabilities.declared({"dtypes": {"conv": ["float32", "int8"], "*": ["float32", "float64"]}})
    assert caps.dtypes_for("conv") == ("float32", "int8") and caps.narrowed_for("conv")
    assert not caps.narrowed_for("max_pool") and "int8" not in convspec.Capabilities.declared(None).dtypes_for("conv")
    naive = convspec.load_backend("naive").capabilities
    assert {"float32", "float64", "int8", "uint8"} <= set(naive.dtypes_for("max_pool")) and not naive.narrowed
    with pytest.raises(convspec.LoadError, match=r"\['dtypes'\]\['avg_pool'\]=\('int8',\), but should be a subset"):
        convspec.Capabilities.declared({"dtypes": {"avg_pool": ["int8"]}})
    with pytest.raises(convspec.LoadError, match="per_tensor_zero_points' for conv, which is about int8, uint8 data"):
        convspec.Capabilities.declared({"restrictions": ["per_tensor_zero_points"]})


def test_integer_conv_arguments_are_named():
    from convspec._contract.functions import check_integer_conv_args, check_zero_points

    x, w = np.zeros((1, 2, 4), np.uint8), np.zeros((3, 2, 2), np.int8)
    args = ((1,), ((0, 0),), (1,), 1)
    *_, zx, zw = check_integer_conv_args(x, w, *args, 7, np.array([1, 2, 3], np.int8))
    assert zx == 7 and zw.tolist() == [1, 2, 3] and check_integer_conv_args(x, w, *args)[-1].tolist() == [0, 0, 0]
    for bad, words in [(dict(x_zero_point=256), "x_zero_point=256, but should lie in uint8's range 0..255"),
                       (dict(x_zero_point=1.5), "x_zero_point=1.5, but should be an int"),
                       (dict(w_zero_point=np.zeros(2, np.int8)), "w_zero_point=.*, but should be an int or 3 ints"),
                       (dict(w_zero_point=-129), "w_zero_point=-129, but should lie in int8's range"),
                       (dict(bias=np.zeros(3, np.int32)), "bias=.*, but an integer conv takes no bias")]:
        with pytest.raises(ValueError, match=words):
            check_integer_conv_args(x, w, *args, **bad)
    with pytest.raises(ValueError, match="x.dtype=uint8 and w.dtype=float32, but an integer conv takes int8 or uint8"):
        check_integer_conv_args(x, np.zeros((3, 2, 2), np.float32), *args)
    with pytest.raises(ValueError, match="x_zero_point=3, but zero points apply to int8/uint8 data only"):
        check_zero_points(np.zeros(3), 3, None)
    with pytest.raises(ValueError, match="x.dtype=int8, but should be float32 or float64 \\(or int8, uint8\\)|"
                                         "x.dtype=int16"):
        convspec.load_backend("naive").max_pool(np.zeros((1, 1, 4), np.int16), window=(2,), stride=(2,),
                                                padding=((0, 0),))
    with pytest.raises(ValueError, match="x.dtype=int8, but should be float32 or float64$"):
        convspec.load_backend("naive").avg_pool(np.zeros((1, 1, 4), np.int8), window=(2,), stride=(2,),
                                                padding=((0, 0),))


def test_hybrid_accuracy_resolves_per_call():
    caps = convspec.Capabilities.declared({"accuracy": {"direct_up_to": 9, "above": "fft"}})
    x = np.zeros((1, 1, 8, 8))
    assert caps.accuracy_for("conv", (x, np.zeros((1, 1, 3, 3)))) == "direct"
    assert caps.accuracy_for("conv", (x, np.zeros((1, 1, 3, 4)))) == "fft"
    assert caps.accuracy_for("correlate", (np.zeros(20), np.zeros(11)), {"mode": "full"}) == "fft"
    assert caps.accuracy_for("conv") == "fft"  # no call: the looser class
    for bad in ({"direct_up_to": 0, "above": "fft"}, {"direct_up_to": 9, "above": "direct"}, {"direct_up_to": 9}):
        with pytest.raises(convspec.LoadError, match="hybrid"):
            convspec.Capabilities.declared({"accuracy": bad})


def test_features_are_declared_by_name_per_function():
    caps = convspec.Capabilities.declared({"features": {"max_pool": ["pool_dilation"], "*": ["pool_padding_to_window"]}})
    assert caps.has_feature("pool_dilation", "max_pool") and not caps.has_feature("pool_dilation", "max_pool", "avg_pool")
    assert caps.has_feature("pool_padding_to_window", "avg_pool", "lp_pool")
    with pytest.raises(convspec.LoadError, match="'pool_dilations', but should use only pool_dilation"):
        convspec.Capabilities.declared({"features": ["pool_dilations"]})
    with pytest.raises(convspec.LoadError, match="applies only to max_pool"):
        convspec.Capabilities.declared({"features": {"conv": ["pool_dilation"]}})


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_pool_problems_with_features_are_valid(data):
    """Dilated, widely padded problems pass the contract's checks, and the reference's output
    has the contract's shape; without the features they stay within half the window."""
    from convspec._contract.functions import check_pool_args, pool_output_shape
    from convspec._catalogue.strategies import pool_problems

    ndim = data.draw(st.sampled_from([1, 2, 3]))
    wide = data.draw(st.booleans())
    p = data.draw(pool_problems(ndim, max_dilation=3, wide=wide))
    x = np.zeros(p.x)
    check_pool_args(x, p.window, p.stride, p.padding, p.ceil_mode, p.dilation)
    y = reference.max_pool(x, **p.kwargs)
    assert y.shape == pool_output_shape(p.x, window=p.window, stride=p.stride, padding=p.padding,
                                        ceil_mode=p.ceil_mode, dilation=p.dilation)
    q = data.draw(pool_problems(ndim))
    assert q.dilation is None and all(a <= k // 2 and b <= k // 2 for (a, b), k in zip(q.padding, q.window))


@pytest.mark.parametrize("name", ["naive", "im2col", "numba"])
def test_padding_only_windows_give_the_stated_values(name):
    b = convspec.load_backend(name)
    x = np.ones((1, 1, 3))
    kw = dict(window=(2,), stride=(1,), padding=((1, 1),), ceil_mode=False, dilation=(4,))
    assert b.max_pool(x, **kw).ravel().tolist() == [-np.inf]
    assert np.isnan(b.avg_pool(x, **kw).ravel()[0]) and b.avg_pool(x, count_padding=True, **kw).ravel()[0] == 0
    assert b.lp_pool(x, p=2, **kw).ravel()[0] == 0
    with pytest.raises(ValueError, match="padding=.*at most window - 1 = 1"):
        b.max_pool(x, window=(2,), stride=(1,), padding=((2, 0),), dilation=(4,))


def test_stable_shapes_are_the_same_in_every_process():
    """The profile "jit" draws problems from a few fixed shapes; a reproduction run in another
    process must get the same ones."""
    import subprocess
    import sys

    from convspec._catalogue.strategies import conv_problems, stable

    code = ("from convspec._catalogue.strategies import conv_problems, stable\n"
            "print(repr(stable(conv_problems(2), 3).elements))")
    here = repr(stable(conv_problems(2), 3).elements)
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert here == there
    sizes = [int(np.prod(p.x)) for p in stable(conv_problems(2), 3).elements]
    assert len(set(sizes)) >= 2, sizes  # spread, not one shape three times


def test_a_first_call_per_shape_gets_the_compile_limit():
    """A backend that is slow on the first call of each shape (compiling) passes under a
    first-call limit and times out without one."""
    import time

    from convspec._catalogue.property import REGISTRY
    from convspec._engine.runner import Profile, run_property
    from convspec.impls import naive

    class Compiling:
        convspec_capabilities = {"ops": ["correlate"], "ndims": [1], "accuracy": "direct"}

        def __init__(self):
            self.seen = set()

        def correlate(self, x, w, *, mode):
            key = (x.shape, w.shape, mode, x.dtype.str)
            if key not in self.seen:
                self.seen.add(key)
                time.sleep(1.5)
            return naive.correlate(x, w, mode=mode)

    prop = REGISTRY["correlate_definition"]
    patient = Profile("patient", 6, 1, 120, 1, shapes=2, first_call_timeout=10)
    assert run_property(prop, convspec.load_backend(Compiling()), profile=patient, seed=0).status == "passed"
    hasty = Profile("hasty", 6, 1, 120, 1, shapes=2)
    result = run_property(prop, convspec.load_backend(Compiling()), profile=hasty, seed=0)
    assert result.status == "error" and "per-call limit of 1 s" in result.message, result.message


def test_arithmetic_is_declared_once_or_per_function():
    """accumulate/products: one value, or per function ({op or '*': value}); anything else a load error."""
    caps = convspec.Capabilities.declared({"accumulate": {"conv_grad_weight": "storage"}, "products": "tf32"})
    assert caps.arithmetic_for("conv") == {"accumulate": "float32", "products": "tf32"}
    assert caps.arithmetic_for("conv_grad_weight") == {"accumulate": "storage", "products": "tf32"}
    for bad in ({"accumulate": {"conv": "half"}}, {"accumulate": {"cnv": "storage"}}, {"products": "tf16"}):
        with pytest.raises(convspec.LoadError, match="but should be one of"):
            convspec.Capabilities.declared(bad)
    from convspec._contract import accuracy

    # the arithmetic changes the bound: storage sums of float16 are held to more than float32 sums
    x, w = np.ones((1, 1, 40), np.float16), np.ones((1, 1, 40), np.float16)
    kw = dict(stride=(1,), padding=((0, 0),), dilation=(1,), groups=1)
    loose = accuracy.direct_bound("conv", (x, w), kw, np.float16, {"accumulate": "storage"})
    tight = accuracy.direct_bound("conv", (x, w), kw, np.float16, {"accumulate": "float32"})
    assert float(loose.max()) > 10 * float(tight.max()) > 0
