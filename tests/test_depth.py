"""Where bugs hide (issue: extreme magnitudes, special values, large sizes, remembered
counterexamples): meta-tests of the machinery, each against a small backend built here."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convspec._contract import accuracy, reference
from convspec._engine.backend import load_backend
from convspec._catalogue import get
from convspec._catalogue.special import classes
from convspec._engine.runner import run_property
from convspec._catalogue.strategies import conv_problems

HERE = os.path.dirname(os.path.abspath(__file__))


class _Conv:
    """A conv-only backend around the reference, with one thing changed by ``twist``."""

    convspec_capabilities = {"ops": ["conv"], "accuracy": "direct"}

    def __init__(self, twist=None):
        self.twist = twist

    def conv(self, x, w, **kw):
        y = reference.conv(x, w, **kw).astype(x.dtype)
        return self.twist(x, w, y, kw) if self.twist else y


def test_classes_names_every_special_value():
    got = classes(np.array([1.0, np.nan, np.inf, -np.inf, 0.0]))
    assert got.tolist() == [0, 1, 2, 3, 0]


def test_underflow_term_is_representable():
    for dtype in (np.float32, np.float64):
        assert accuracy.underflow(dtype) > 0  # half a subnormal spacing would round to zero
        assert accuracy.direct_bound("correlate", (np.array([1e-300]), np.array([1e-300])), {"mode": "full"},
                                     np.float64).min() > 0


def test_lp_pool_bound_covers_the_rounded_root_exponent():
    # the root as a power with 1/p rounded: S^(fl(1/p)) differs from the true root by about u |ln y|
    x = np.full((1, 1, 1), 2.2486e305)
    kw = dict(p=1.5, window=(1,), stride=(1,), padding=((0, 0),), ceil_mode=False)
    bound = accuracy.pool_bound("lp_pool", (x,), kw, np.float64)
    assert bound.item() > 1e-13 * 2.2486e305 * 0.5


def test_a_single_op_backend_is_checked_against_the_reference_for_the_other_op():
    backend = load_backend(_Conv())
    result = run_property(get("conv_is_correlation"), backend, profile="quick", seed=0)
    assert result.status == "passed", result.message  # used to be skipped: the backend has no correlate
    flipped = load_backend(_Conv(lambda x, w, y, kw: reference.conv(x, w[(Ellipsis,) + (slice(None, None, -1),) * (x.ndim - 2)],
                                                                     **kw).astype(x.dtype)))
    assert run_property(get("conv_is_correlation"), flipped, profile="quick", seed=0).status == "failed"


def test_degenerate_examples_are_still_compared():
    """A backend wrong only where the right answer is all zero: used to be discarded unseen."""
    def stale(x, w, y, kw):
        return np.ones_like(y) if not np.any(y) else y
    result = run_property(get("conv_definition"), load_backend(_Conv(stale)), profile="default", seed=0)
    assert result.status == "failed", result.message


def test_a_result_aliasing_an_earlier_one_fails_every_comparing_property():
    kept = {}

    def shared(x, w, y, kw):
        buf = kept.setdefault((y.shape, y.dtype.str), np.empty_like(y))
        buf[...] = y
        return buf
    result = run_property(get("conv_stride_downsampling"), load_backend(_Conv(shared)), profile="quick", seed=0)
    assert result.status == "failed" and "shared with the result of call" in result.message, result.message


def test_magnitude_classes_reach_overflow_and_underflow():
    seen = set()
    backend = load_backend(_Conv())
    from convspec._catalogue.drawing import scaled
    from convspec._catalogue.property import Context

    @settings(max_examples=60, database=None)
    @given(st.data())
    def draw(data):
        ctx = Context(get("conv_accuracy"), backend, data, fixed={"dtype": "float32"})
        x, w = scaled(ctx, [(50,), (50,)], terms=50)
        top = float(np.abs(x).max() * np.abs(w).max())
        assert np.all(np.isfinite(x)) and np.all(np.isfinite(w))
        assert 50 * top < np.finfo(np.float32).max  # every sum of 50 products stays representable
        seen.add("huge" if top > 1e30 else "tiny" if 0 < top < 1e-30 else "other")
    draw()
    assert {"huge", "tiny"} <= seen


def test_shrinking_goes_below_the_size_class():
    """A bug needing only an axis of length >= 3 shrinks to 3, not to 9 (the bottom of a class)."""
    failing = []

    @settings(max_examples=200, database=None)
    @given(conv_problems(1))
    def find(p):
        if p.x[2] >= 3:
            failing.append(p)
            raise AssertionError("long enough")
    with pytest.raises(AssertionError):
        find()
    assert failing[-1].x[2] == 3, failing[-1]


def convspec(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-P", "-m", "convspec", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=600)


def test_remembered_counterexample_is_replayed_and_reported_when_fixed(tmp_path):
    target = tmp_path / "layer.py"
    wrong = textwrap.dedent("""
        from convspec._contract import reference
        BUG = True
        def conv(x, w, **kw):
            y = reference.conv(x, w, **kw).astype(x.dtype)
            if BUG and y.size > 3:
                y.flat[3] += 1
            return y
    """)
    target.write_text(wrong)
    db = tmp_path / "db"
    args = ["check", str(target), "--only", "conv_definition", "--examples-db", str(db), "--json", str(tmp_path / "r.json")]
    first = convspec(*args, "--seed", "1", cwd=tmp_path)
    assert first.returncode == 1
    assert any(db.rglob("*")), "the failure was not remembered"
    again = convspec(*args, "--seed", "2", "--max-examples", "1", cwd=tmp_path)
    assert again.returncode == 1, "the remembered counterexample was not replayed first"
    target.write_text(wrong.replace("BUG = True", "BUG = False"))
    fixed = convspec(*args, "--seed", "3", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout
    assert "now pass" in fixed.stdout
    result = json.loads((tmp_path / "r.json").read_text())["results"][0]
    assert result["replayed"] >= 1 and "remembered" in result["message"]


def test_examples_db_off_and_max_examples_flags(tmp_path):
    out = convspec("check", "naive", "--only", "conv_definition", "--max-examples", "3", "--examples-db", "off",
                   "--json", str(tmp_path / "r.json"), cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads((tmp_path / "r.json").read_text())["results"][0]["examples"] <= 3 + 10  # degenerate ones redrawn
    bad = convspec("check", "naive", "--max-examples", "0", cwd=tmp_path)
    assert bad.returncode == 2 and "--max-examples" in bad.stderr


def test_a_failure_that_depends_on_earlier_calls_is_reproduced_with_them(tmp_path):
    """A recycled output buffer: the failing call alone is right; the reproduction carries the
    earlier call that left the stale values, found by replaying in fresh executors."""
    mutant = os.path.join(HERE, "mutants", "m67_conv_previous_result_in_padding.py")
    out = convspec("check", mutant, "--only", "conv_matrix_view", "--seed", "0", "--examples-db", "off",
                   "--json", str(tmp_path / "r.json"), cwd=tmp_path)
    assert out.returncode == 1, out.stdout
    result = json.loads((tmp_path / "r.json").read_text())["results"][0]
    assert "depends on earlier calls" in result["message"], result["message"]
    snippet = result["counterexample"]["reproduction"]
    assert snippet.count("= b.conv(") >= 2  # the earlier call and the failing one
    run = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    # run as printed, in a fresh process, the failing call answers wrongly and the assertion says so
    assert run.returncode == 1 and "AssertionError: conv(" in run.stderr, run.stderr
