"""Running the catalogue inside pytest: for this repository's ``properties/`` and for users.

In your own test suite, inherit every applicable property (about twenty lines give you the
whole catalogue)::

    from convspec.testing import Conformance

    class TestMyConv(Conformance):
        backend = "mypkg.myconv"       # any TARGET, or the object itself
        profile = "default"            # optional: quick | default | thorough

Each property becomes ``test_<name>``, parametrized over its discrete axes (dtype, ndim,
mode) so they show in test ids; sizes and values are drawn by hypothesis.  A property that
does not apply is skipped with the reason; a failure shows the minimal counterexample and a
reproduction.

This route runs the backend in the test process, as a library's own suite does: it does not
isolate the backend from the checker (only ``convspec check`` does, see the README).
"""

from __future__ import annotations

import itertools

import pytest

from .catalogue import CATALOGUE
from .runner import examples_database, profile_named, run_property


def cases(prop):
    """Every combination of the property's discrete axes, as ``(id, {axis: value})``."""
    axes = prop.axis_values
    out = []
    for combo in itertools.product(*axes.values()):
        fixed = dict(zip(axes, combo))
        label = "-".join(f"{v}d" if a == "ndim" else str(v) for a, v in fixed.items()) or "all"
        out.append((label, fixed))
    return out


def run_case(prop, backend, fixed, *, profile="default", seed=0, database=None):
    """Run one parametrized case; skip, pass, or fail with the counterexample.

    ``database``: the folder of remembered counterexamples (``None``: none)."""
    profile = profile_named(profile)
    examples = max(5, profile.examples // max(1, len(cases(prop))))
    result = run_property(prop, backend, profile=profile, seed=seed, fixed=fixed, examples=examples, database=database)
    if result.status == "skipped":
        pytest.skip(result.message)
    if result.status != "passed":
        text = f"[{result.status}] {result.message}"
        if result.counterexample:
            text += "\n\nminimal counterexample:\n" + result.counterexample["draws"]
            text += "\n\nreproduction:\n" + result.counterexample["reproduction"]
        pytest.fail(text, pytrace=False)


def _method(prop):
    def test(self, convspec_case):
        run_case(prop, self.backend, convspec_case, profile=self.profile, seed=self.seed,
                 database=examples_database(self.examples_db))

    test.__name__ = f"test_{prop.name}"
    test.__doc__ = prop.doc
    test.convspec_property = prop
    return test


class Conformance:
    """Inherit to check ``backend`` against every property (see the module docstring)."""

    backend = None
    profile = "default"
    seed = 0
    #: remembered counterexamples: None for the default folder, a path, or "off"
    examples_db = None


for _p in CATALOGUE:
    setattr(Conformance, f"test_{_p.name}", _method(_p))


def section_tests(section: str) -> dict:
    """Test functions ``test_<name>(convspec_backend, convspec_case)`` for one catalogue module.

    Used by ``properties/``: the plugin parametrizes ``convspec_backend`` from ``--backend``.
    """
    tests = {}
    for prop in CATALOGUE:
        if prop.fn.__module__.rsplit(".", 1)[-1] != section:
            continue

        def test(convspec_backend, convspec_case, convspec_profile, convspec_database, prop=prop):
            run_case(prop, convspec_backend, convspec_case, profile=convspec_profile, database=convspec_database)

        test.__name__ = f"test_{prop.name}"
        test.__doc__ = prop.doc
        test.convspec_property = prop
        tests[test.__name__] = test
    return tests
