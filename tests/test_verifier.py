"""The verifier verified: every mutant is caught, no trusted implementation is flagged.

Both run as the command line runs them: the backend in its own executor process
(:class:`convspec._engine.remote.RemoteBackend`), the properties and the verdict here."""

import contextlib
import os

import numpy as np
import pytest

from convspec._catalogue import CATALOGUE, get
from convspec import load_backend
from convspec._engine.remote import RemoteBackend
from convspec._engine.runner import run_property
from convspec._frontends.conformance import triage

from corpus import HERE, caught_by, known_deviations, mutants, run_snippets, trusted

SEED = 0


def _name(path):
    return os.path.splitext(os.path.basename(path))[0]


def _caught(backend, props, profile, shrink=True):
    """The first of ``props`` that fails (or errors) for ``backend``, as its result; None if none does."""
    for prop in props:
        result = run_property(prop, backend, profile=profile, seed=SEED, shrink=shrink)
        if result.status in ("failed", "error"):
            return result
    return None


@pytest.mark.full_only
@pytest.mark.parametrize("path", mutants(), ids=_name)
def test_mutant_is_caught(path, tmp_path):
    """Caught by the catalogue in order (default profile), with a reason and a reproduction that,
    run as printed from another folder, fails for the mutant and passes once its path is
    swapped for the reference backend; the property listed for it in caught_by.txt (which the
    quick tests try first) catches it too."""
    with RemoteBackend(path) as backend:
        result = _caught(backend, CATALOGUE, "default")
        if result is None:
            pytest.fail(f"mutant {_name(path)} passed every property, but should be caught by the default profile")
        hint = caught_by().get(_name(path))
        assert hint is not None, f"tests/mutants/caught_by.txt should name the property that catches {_name(path)}"
        if hint != result.property:
            assert _caught(backend, [get(hint)], "default") is not None, (
                f"caught_by.txt says {hint} catches {_name(path)}, but it passes; {result.property} catches it first")
    _check_reproduction(path, result, tmp_path)


def _check_reproduction(path, result, tmp_path):
    assert result.message  # caught, with a reason
    snippet = result.counterexample["reproduction"]
    assert repr(path) in snippet, "the reproduction should load the target by its absolute path"
    # the fix: the reference backend, or for a declaration that is not honoured, one that honours it
    fix = os.path.join(HERE, "trusted", "restricted_reference.py") if result.property.endswith("_restrictions") \
        else "naive"
    mutant, fixed = run_snippets([snippet, snippet.replace(repr(path), repr(fix))], tmp_path)
    assert mutant, f"the reproduction of {result.property} ran without error for {_name(path)}, but should fail:\n{snippet}"
    assert fixed is None, f"the reproduction of {result.property} raised {fixed} for the reference, but should pass"


#: The quick tests run the reproductions of every REPRODUCED-th mutant (the full suite: all).
REPRODUCED = 8


@pytest.mark.quick_only
@pytest.mark.parametrize("path", mutants(), ids=_name)
def test_mutant_is_caught_quickly(path, tmp_path):
    """Caught: the property listed in caught_by.txt first (default profile, as the full suite
    runs it), then the catalogue in order (quick profile).  Every eighth mutant runs as in the
    full suite (in an executor, shrunk to its minimal example, its reproduction run); the others
    in this process, unshrunk."""
    hint = caught_by().get(_name(path))
    first = [get(hint)] if hint else []
    reproduced = mutants().index(path) % REPRODUCED == 0
    with (RemoteBackend(path) if reproduced else contextlib.nullcontext(load_backend(path))) as backend:
        result = _caught(backend, first, "default", shrink=reproduced) or _caught(
            backend, [p for p in CATALOGUE if p.name != hint], "quick", shrink=reproduced)
    if result is None:
        pytest.fail(f"mutant {_name(path)} passed every property, but should be caught")
    if reproduced:
        _check_reproduction(path, result, tmp_path)


def test_mutant_corpus_is_large_and_documented():
    """Every mutant names its bug in its docstring, and caught_by.txt names a property for each."""
    import ast

    files = mutants()
    assert len(files) >= 25, f"len(mutants)={len(files)}, but should be at least 25"
    for f in files:
        with open(f) as source:
            doc = ast.get_docstring(ast.parse(source.read()))
        assert doc and doc.strip(), f"mutant {_name(f)} has no docstring naming its bug"
    names = {_name(f) for f in files}
    hints = caught_by()
    assert set(hints) == names, f"caught_by.txt: missing {sorted(names - set(hints))}, stale {sorted(set(hints) - names)}"
    for prop in hints.values():
        get(prop)  # a property of the catalogue


def _false_alarms(path, profile, examples=None, isolated=True):
    """Failures outside the listed real deviations, and listed deviations that no longer fail."""
    known = known_deviations()
    bad, fixed = [], []
    with (RemoteBackend(path) if isolated else contextlib.nullcontext(load_backend(path))) as backend:
        for prop in CATALOGUE:
            result = run_property(prop, backend, profile=profile, seed=SEED, examples=examples)
            result.backend = _name(path)
            if result.status in ("failed", "error"):
                bad += [f"{prop.name}: {r.message}" for r in triage([result], known)[0]]
                continue
            # an unconditional entry must keep failing; one confirmed on this machine only where it holds
            entry = next((k for k in known if k.matches(_name(path), prop.name) and not k.adapter), None)
            if entry and result.status != "skipped" and examples is None:
                fixed.append(f"{prop.name} passed, but is listed as a known deviation ({entry.why})")
    return bad, fixed


@pytest.mark.full_only
@pytest.mark.parametrize("path", trusted(), ids=_name)
def test_trusted_implementation_passes(path):
    """No false alarm: every property passes, except the listed real deviations, which must
    still fail (known failures as data, strict)."""
    bad, fixed = _false_alarms(path, "default")
    assert not bad, "false alarms:\n" + "\n".join(bad)
    assert not fixed, "\n".join(fixed)


@pytest.mark.quick_only
@pytest.mark.parametrize("path", trusted(), ids=_name)
def test_trusted_implementation_passes_quickly(path):
    """No false alarm on a few examples of every property, the implementation in this process (a
    listed deviation may not show on so few: only the full suite requires it to keep failing)."""
    bad, _ = _false_alarms(path, "quick", examples=QUICK_EXAMPLES, isolated=False)
    assert not bad, "false alarms:\n" + "\n".join(bad)


#: Examples per property for the trusted implementations in the quick tests.
QUICK_EXAMPLES = 2


def test_known_deviations_are_real():
    """Each listed deviation, confirmed by independent arithmetic (plain NumPy in float64)."""
    import scipy.ndimage

    x = np.array([1e10, 2e10, 3e10])
    tiny = np.array([1e-17])
    assert np.all(scipy.ndimage.correlate(x, tiny, mode="constant") == 0)  # the library
    assert np.allclose(x * 1e-17, [1e-7, 2e-7, 3e-7])  # the arithmetic: not zero
    with_nan = np.array([1.0, np.nan, 2.0])
    assert np.all(np.isfinite(scipy.ndimage.correlate(np.arange(1.0, 6.0), with_nan, mode="constant")))
    assert np.all(np.isnan(np.correlate(np.arange(1.0, 6.0), with_nan, "same")))  # NaN * x is NaN
    import scipy.signal

    x = np.array([[1.0, np.nan, 2.0]])
    y = scipy.signal.correlate(x, np.ones((2, 2)), mode="full", method="direct")
    assert np.isnan(y[0, 0])  # the library
    assert x[0, 0] * 1.0 == 1.0  # the arithmetic: full[0, 0] holds only x[0, 0] * w[1, 1]
    torch = pytest.importorskip("torch")
    big = torch.tensor([[[3e19] * 4]], dtype=torch.float32)
    assert torch.isinf(torch.nn.functional.lp_pool1d(big, 2, 4)).all()
    assert np.isfinite(np.float32(np.sqrt(4 * 3e19 ** 2)))  # 6e19 fits float32 (max 3.4e38)
