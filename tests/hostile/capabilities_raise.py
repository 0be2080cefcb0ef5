"""expect: load-error -- reading convspec_capabilities raises (a module __getattr__)."""
from _wrong import right_correlate as correlate  # noqa: F401


def __getattr__(name):
    if name == "convspec_capabilities":
        raise RuntimeError("capabilities are computed lazily and this failed")
    raise AttributeError(name)
