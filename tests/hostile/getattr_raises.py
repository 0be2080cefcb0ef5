"""expect: load-error -- a module __getattr__ that raises RuntimeError for every missing name."""
from _wrong import right_correlate as correlate  # noqa: F401


def __getattr__(name):
    raise RuntimeError(f"no {name} here")
