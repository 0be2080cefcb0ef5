"""pytest plugin (registered through the ``pytest11`` entry point).

Options, all namespaced so they never collide with a project's own: ``--convspec-backend
TARGET`` (repeatable; default: every bundled backend), ``--convspec-profile NAME`` and
``--convspec-examples-db PATH|off`` for the tests made by
:func:`convspec.testing.section_tests`; every property test is parametrized over its
discrete axes.  (This repository's ``properties/conftest.py`` adds the short ``--backend``.)
"""

from __future__ import annotations


def pytest_addoption(parser):
    group = parser.getgroup("convspec")
    group.addoption("--convspec-backend", action="append", default=[], metavar="TARGET",
                    help="convspec backend to check (repeatable; default: every bundled backend)")
    group.addoption("--convspec-profile", default="default", help="convspec profile: quick, default or thorough")
    group.addoption("--convspec-examples-db", default=None, metavar="PATH|off",
                    help="folder of remembered counterexamples (default: the user's cache, per project folder)")


def pytest_generate_tests(metafunc):
    prop = getattr(metafunc.function, "convspec_property", None)
    if prop is None:
        return
    from .testing import cases

    if "convspec_backend" in metafunc.fixturenames:
        from impls import BUNDLED

        targets = metafunc.config.getoption("convspec_backend") or _short_option(metafunc.config) or list(BUNDLED)
        metafunc.parametrize("convspec_backend", targets, ids=[t.rsplit("/", 1)[-1] for t in targets])
    if "convspec_case" in metafunc.fixturenames:
        found = cases(prop)
        metafunc.parametrize("convspec_case", [f for _, f in found], ids=[i for i, _ in found])


def _short_option(config):
    """``--backend``, where a conftest (this repository's ``properties/``) defines it."""
    try:
        return config.getoption("backend")
    except ValueError:
        return []


def pytest_configure(config):
    config.addinivalue_line("markers", "convspec: a convspec property test")


import pytest  # noqa: E402


@pytest.fixture
def convspec_profile(request):
    return request.config.getoption("convspec_profile")


@pytest.fixture
def convspec_database(request):
    from .runner import examples_database

    return examples_database(request.config.getoption("convspec_examples_db"))
