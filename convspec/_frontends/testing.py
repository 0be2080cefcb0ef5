"""Running the catalogue inside pytest: for this repository's ``properties/`` and for users.

In your own test suite, inherit every applicable property (about twenty lines give you the
whole catalogue)::

    from convspec._frontends.testing import Conformance

    class TestMyConv(Conformance):
        backend = "mypkg.myconv"       # any TARGET, or the object itself
        profile = "default"            # optional: quick | default | thorough

Each property becomes ``test_<name>``, parametrized over its discrete axes (dtype, ndim,
mode) so they show in test ids; sizes and values are drawn by hypothesis.  A property that
does not apply is skipped with the reason; a failure shows the minimal counterexample and a
reproduction.

This route runs the backend in the test process, as a library's own suite does: it does not
isolate the backend from the checker (only ``convspec check`` does: docs/explanation/isolation.md).
"""

from __future__ import annotations

import itertools

import pytest

from convspec._engine import known_failures as known
from convspec._engine.backend import load_backend
from convspec._catalogue import CATALOGUE, in_version
from convspec._engine.runner import examples_database, profile_named, run_property


def case_id(fixed) -> str:
    """The test id of one combination of axes: ``float32-2d``."""
    return "-".join(f"{v}d" if a == "ndim" else str(v) for a, v in fixed.items()) or "all"


def cases(prop):
    """Every combination of the property's discrete axes, as ``(id, {axis: value})``."""
    axes = prop.axis_values
    return [(case_id(dict(zip(axes, combo))), dict(zip(axes, combo))) for combo in itertools.product(*axes.values())]


#: Entries of known-failure lists that matched a test in this process (for the warning about stale ones).
USED: set = set()


def _listed(entries, prop, who, fixed):
    entry = known.first_match(entries, prop.name, who, case_id(fixed))
    if entry is not None:
        USED.add(entry)
    return entry


def _why(entry) -> str:
    return f"{entry.source}" + (f": {entry.reason}" if entry.reason else "")


def run_case(prop, backend, fixed, *, profile="default", seed=0, database=None, xfails=(), skips=(), who=(),
             strict_xfails=True, catalogue=None):
    """Run one parametrized case; skip, pass, xfail or fail with the counterexample.

    ``database``: the folder of remembered counterexamples (``None``: none).  ``xfails`` and
    ``skips``: :class:`convspec._engine.known_failures.Entry` lists, matched against the property, the case id
    and the names in ``who`` (the test class, the module, the backend).  A listed failure is
    an xfail; a listed case that passes fails when ``strict_xfails``.  The profile's example
    budget is shared by the cases that apply to the backend, as the command line spends it on
    one property."""
    if catalogue is not None and not in_version(prop, catalogue):
        pytest.skip(f"not in the pinned catalogue {catalogue} (added in {prop.added}"
                    + "".join(f", changed in {v}: {what}" for v, what in prop.changed) + ")")
    entry = _listed(skips, prop, who, fixed)
    if entry is not None:
        pytest.skip(f"listed as a skip ({_why(entry)})")
    profile = profile_named(profile)
    backend = load_backend(backend)
    allowed = prop.allowed(backend, catalogue)
    applicable = sum(all(v in allowed.get(a, (v,)) for a, v in f.items()) for _, f in cases(prop))
    examples = max(5, profile.examples // max(1, applicable))
    result = run_property(prop, backend, profile=profile, seed=seed, fixed=fixed, examples=examples, database=database)
    if result.status == "skipped":
        pytest.skip(result.message)
    expected_failure = _listed(xfails, prop, who, fixed)
    if result.status != "passed":
        if expected_failure is not None:
            pytest.xfail(f"listed as a known failure ({_why(expected_failure)}): {result.message}")
        text = f"[{result.status}] {result.message}"
        if result.counterexample:
            text += "\n\nminimal counterexample:\n" + result.counterexample["draws"]
            text += "\n\nreproduction (runs from any folder; fails while the bug is there):\n" \
                + result.counterexample["reproduction"]
        pytest.fail(text, pytrace=False)
    if expected_failure is not None and strict_xfails:
        pytest.fail(f"[XPASS(strict)] passed, but is listed as a known failure ({_why(expected_failure)}); "
                    "remove the entry (or set strict_xfails = False / --convspec-no-strict-xfails)", pytrace=False)


def _entries(table, source) -> list:
    """A class's ``xfails``/``skips``: ``{"[WHO::]PROPERTY glob": reason}`` or a list of entries."""
    if isinstance(table, str):
        raise TypeError(f"{source}={table!r}, but should be a dict {{property glob: reason}} or a list of globs")
    items = table.items() if isinstance(table, dict) else ((e, "") for e in table)
    return [e for what, reason in items for e in known.parse(f"{what} # {reason}" if reason else what, source)]


def _method(prop):
    def test(self, convspec_case, convspec_known, convspec_catalogue):
        cls = type(self)
        who = (cls.__name__, cls.__module__, str(cls.backend))
        xfails = _entries(cls.xfails, f"{cls.__name__}.xfails") + convspec_known["xfails"]
        skips = _entries(cls.skips, f"{cls.__name__}.skips") + convspec_known["skips"]
        run_case(prop, cls.backend, convspec_case, profile=self.profile, seed=self.seed,
                 database=examples_database(self.examples_db), xfails=xfails, skips=skips, who=who,
                 strict_xfails=cls.strict_xfails and convspec_known["strict"],
                 catalogue=cls.catalogue_version or convspec_catalogue)

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
    #: this class's known failures: ``{"conv_large": "why", "conv_grad_*[float64-*]": "why"}``;
    #: they apply to this class only, never to another subclass in the same session
    xfails: dict = {}
    #: properties (globs, with an optional ``[case]``) not to run for this class, same form
    skips: dict = {}
    #: a listed failure that passes fails the test
    strict_xfails = True
    #: the catalogue version to run exactly (e.g. "0.1.0"), so an upgrade of convspec never adds or
    #: changes a property under this class; None: this convspec's (or --convspec-catalogue-version)
    catalogue_version = None


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

        def test(convspec_backend, convspec_case, convspec_profile, convspec_database, convspec_known,
                 convspec_catalogue, prop=prop):
            run_case(prop, convspec_backend, convspec_case, profile=convspec_profile, database=convspec_database,
                     xfails=convspec_known["xfails"], skips=convspec_known["skips"], who=(convspec_backend,),
                     strict_xfails=convspec_known["strict"], catalogue=convspec_catalogue)

        test.__name__ = f"test_{prop.name}"
        test.__doc__ = prop.doc
        test.convspec_property = prop
        tests[test.__name__] = test
    return tests
