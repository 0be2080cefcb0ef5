"""convspec: property-based verification and benchmarks for convolution and pooling.

This module is the whole public API (``__all__``); everything in the underscored packages
behind it is internal and may move between releases.

Backends -- :func:`load_backend` resolves a TARGET as ``convspec check`` does and returns a
:class:`Backend`; a backend declares what it supports in ``convspec_capabilities``
(:class:`Capabilities`) and raises :class:`Unsupported` for an example a declared restriction
excludes; :class:`LoadError` says why a TARGET did not load; :func:`list_backends` and
:func:`list_adapters` name the bundled backends and the shipped adapters of real libraries.

The definitions -- :mod:`reference` holds the defining sums of chapter 9 in plain NumPy;
:func:`assert_matches_definition` judges one result against them by the accuracy model;
:func:`as_layout` rebuilds the non-contiguous views a reproduction's inputs came in.

The catalogue -- :func:`list_properties` lists every property (name, function, concepts,
statement, the version that added it); :func:`recheck` runs one property on exactly one
recorded example, as reproductions do; :class:`Conformance` brings the catalogue into a
pytest suite (the ``convspec`` pytest plugin adds the ``--convspec-*`` options).

The bench -- :class:`Problem` is one benchmark problem, written as one line
(:func:`parse_problem`, ``conv mb1ic64ih56oc64kh3ph1``), as ``convspec bench`` reads them.
"""

import os as _os
import sys as _sys


def _map_source_tree_impls():
    """In a source checkout the bundled backends sit in the top-level ``impls/`` folder, which
    an install maps to ``convspec.impls`` (setuptools' ``package_dir``); map it the same way here."""
    here = _os.path.dirname(_os.path.abspath(__file__))
    folder = _os.path.join(_os.path.dirname(here), "impls")
    if "convspec.impls" in _sys.modules or _os.path.isdir(_os.path.join(here, "impls")) \
            or not _os.path.isfile(_os.path.join(folder, "__init__.py")):
        return
    import importlib.util

    spec = importlib.util.spec_from_file_location("convspec.impls", _os.path.join(folder, "__init__.py"),
                                                  submodule_search_locations=[folder])
    module = importlib.util.module_from_spec(spec)
    _sys.modules["convspec.impls"] = module
    spec.loader.exec_module(module)
    globals()["impls"] = module  # as the import system sets a subpackage on its parent


_map_source_tree_impls()

from convspec._contract import reference
from convspec._contract.agreement import assert_matches_definition
from convspec._contract.memory_layouts import as_layout
from convspec._engine.backend import Backend, Capabilities, LoadError, Unsupported, load_backend

if False:  # for type checkers and documentation only: the bench loads on first use
    from convspec._bench.problems import Problem

from convspec._versions import __version__

__all__ = [
    "__version__",
    # backends
    "Backend", "Capabilities", "LoadError", "Unsupported", "load_backend", "list_backends", "list_adapters",
    # the definitions
    "reference", "assert_matches_definition", "as_layout",
    # the catalogue
    "list_properties", "recheck", "Conformance",
    # the bench
    "Problem", "parse_problem",
]


def list_backends() -> list[str]:
    """The names ``load_backend`` resolves without a path: the bundled backends, then those
    registered in the entry-point group ``convspec.backends``."""
    from convspec._engine.backend import bundled_names, entry_point_names

    return sorted(bundled_names()) + sorted(entry_point_names())


def list_adapters() -> dict:
    """The shipped adapters of real libraries, by name (``load_backend("torch")``): what each
    covers, the package it needs, and whether it can run here (``None``) or why not."""
    from convspec._engine.backend import adapter_names, adapter_unusable

    return {name: {"covers": covers, "needs": package, "unusable": adapter_unusable(name)}
            for name, (_, package, covers) in sorted(adapter_names().items())}


def list_properties() -> list[dict]:
    """Every property of the catalogue, definitions first, as ``convspec list --json`` gives
    them: ``name``, ``op``, ``concepts``, ``statement``, ``requires``, ``uses``, ``axes``."""
    from convspec._catalogue import listing

    return listing()


def parse_problem(line: str) -> "Problem":
    """A benchmark problem from its one-line descriptor (``conv mb1ic64ih56oc64kh3ph1``);
    ``ValueError`` naming the field that does not parse."""
    from convspec._bench.problems import parse

    return parse(line)


def __getattr__(name):
    # loaded on first use: Conformance needs pytest, Problem the bench
    if name == "Conformance":
        from convspec._frontends.testing import Conformance

        return Conformance
    if name == "Problem":
        from convspec._bench.problems import Problem

        return Problem
    raise AttributeError(f"module 'convspec' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


def recheck(backend, name, example, blob=None, *, tries=1, seconds=20.0, profile="default", **fixed):
    """Run the property ``name`` on ``backend`` for exactly one example, the one a reproduction
    recorded; raise :class:`AssertionError` with the property's message if it fails there.

    ``example``: the values the example was drawn as, ``[(label, value), ...]`` (as the
    reproduction prints it; no hypothesis involved, so it replays under any version).  A
    reproduction of convspec 0.1.0 gave hypothesis's version and choice blob instead,
    ``recheck(b, name, version, blob)``: that form still replays, under that hypothesis
    version.  ``fixed``: axes the example had pinned; ``tries``: how often to run it, for a
    backend whose answers vary from call to call (the first failure raises; no new run starts
    after ``seconds``); ``profile``: the run's, where it shapes the example."""
    import time

    from convspec._catalogue import get
    from convspec._engine.runner import run_property

    try:
        prop = get(name)
    except KeyError as e:
        raise ValueError(f"name={name!r}, but should be a property of this convspec (convspec list)") from e
    how = {"replay": (example, blob)} if blob is not None else {"example": example}
    start = time.monotonic()
    for attempt in range(1, tries + 1):
        if attempt > 1 and time.monotonic() - start > seconds:
            break
        result = run_property(prop, backend, fixed=fixed or None, database=None, profile=profile, **how)
        if result.status in ("failed", "error"):
            raise AssertionError(f"{name}: {result.message}" + (f" (run {attempt} of {tries})" if tries > 1 else ""))
    if result.status == "skipped":
        raise AssertionError(f"{name} does not apply to this backend: {result.message}")
