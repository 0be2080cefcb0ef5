"""pytest plugin (registered through the ``pytest11`` entry point).

Options, all namespaced so they never collide with a project's own: ``--convspec-backend
TARGET`` (repeatable; default: every bundled backend), ``--convspec-profile NAME`` and
``--convspec-examples-db PATH|off`` for the tests made by
:func:`convspec._frontends.testing.section_tests`; every property test is parametrized over its
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
    group.addoption("--convspec-xfails", metavar="FILE", help="known failures, one [WHO::]PROPERTY[case] glob per line")
    group.addoption("--convspec-skips", metavar="FILE", help="property tests not to run, same format")
    group.addoption("--convspec-catalogue-version", metavar="X",
                    help="run exactly the properties of catalogue version X (default: this convspec's)")
    group.addoption("--convspec-no-strict-xfails", action="store_true",
                    help="a listed failure that passes is not a failure (default: it is, XPASS(strict))")


def pytest_generate_tests(metafunc):
    prop = getattr(metafunc.function, "convspec_property", None)
    if prop is None:
        return
    from convspec._frontends.testing import cases

    if "convspec_backend" in metafunc.fixturenames:
        from convspec.impls import BUNDLED

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


@pytest.fixture(scope="session")
def convspec_known(request):
    """The known-failure files of the command line (``--convspec-xfails/--convspec-skips``)."""
    return request.config._convspec_known


def pytest_sessionstart(session):
    from convspec._engine import known_failures as known

    config = session.config
    lists = {"xfails": [], "skips": [], "strict": not config.getoption("convspec_no_strict_xfails")}
    for kind in ("xfails", "skips"):
        path = config.getoption(f"convspec_{kind}")
        if path:
            try:
                lists[kind] = known.read(path, f"--convspec-{kind}")
            except ValueError as e:
                raise pytest.UsageError(str(e)) from None
    config._convspec_known = lists


def pytest_terminal_summary(terminalreporter, config):
    """Entries of the known-failure files that matched no test (not under xdist's controller,
    which runs none itself)."""
    from convspec._engine import known_failures as known
    from convspec._frontends.testing import USED

    lists = getattr(config, "_convspec_known", None)
    if not lists or config.pluginmanager.hasplugin("dsession"):
        return
    stale = known.unused(lists["xfails"] + lists["skips"], USED)
    if stale and any(terminalreporter.stats.get(k) for k in ("passed", "failed", "xfailed", "skipped")):
        terminalreporter.write_sep("-", "convspec: known-failure entries that matched no test")
        for line in stale:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def convspec_catalogue(request):
    """The pinned catalogue version (``--convspec-catalogue-version``), or ``None``."""
    version = request.config.getoption("convspec_catalogue_version")
    if version is not None:
        from convspec._catalogue import check_version

        try:
            check_version(version)
        except ValueError as e:
            raise pytest.UsageError(f"--convspec-catalogue-version: {e}") from None
    return version


@pytest.fixture
def convspec_profile(request):
    return request.config.getoption("convspec_profile")


@pytest.fixture
def convspec_database(request):
    from convspec._engine.runner import examples_database

    return examples_database(request.config.getoption("convspec_examples_db"))
