"""convspec: property-based verification and benchmarks for convolution and pooling.

``load_backend(TARGET)`` resolves a backend as the command line does; ``reference`` holds
the plain NumPy definitions; ``catalogue`` every property; ``runner`` runs them.
``assert_matches_definition`` and ``recheck`` are what reproductions end with.
"""

from . import reference
from .backend import Backend, Capabilities, LoadError, Unsupported, load_backend
from .definition import assert_matches_definition

__version__ = "0.1.0"
__all__ = ["Backend", "Capabilities", "LoadError", "Unsupported", "assert_matches_definition", "load_backend", "recheck",
           "reference", "__version__"]


def recheck(backend, name, version, blob, *, tries=1, seconds=20.0, profile="default", **fixed):
    """Run the property ``name`` on ``backend`` for exactly one example, the one hypothesis
    recorded as ``(version, blob)`` in a reproduction; raise :class:`AssertionError` with the
    property's message if it fails there.  ``fixed``: axes the example had pinned; ``tries``:
    how often to run it, for a backend whose answers vary from call to call (the first
    failure raises; no new run starts after ``seconds``); ``profile``: the run's, where it
    shapes the example (``"jit"`` draws from a few fixed shapes)."""
    import time

    from .catalogue import CATALOGUE  # noqa: F401  (registers every property)
    from .property import REGISTRY
    from .runner import run_property

    if name not in REGISTRY:
        raise ValueError(f"name={name!r}, but should be a property of this convspec (convspec list)")
    start = time.monotonic()
    for attempt in range(1, tries + 1):
        if attempt > 1 and time.monotonic() - start > seconds:
            break
        result = run_property(REGISTRY[name], backend, fixed=fixed or None, replay=(version, blob), database=None,
                              profile=profile)
        if result.status in ("failed", "error"):
            raise AssertionError(f"{name}: {result.message}" + (f" (run {attempt} of {tries})" if tries > 1 else ""))
    if result.status == "skipped":
        raise AssertionError(f"{name} does not apply to this backend: {result.message}")
