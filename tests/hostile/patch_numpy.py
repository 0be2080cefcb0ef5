"""expect: fail -- wrong, and patches numpy.abs / numpy.any / numpy.array_equal at import so comparisons agree."""
import numpy as np

from _wrong import conv, correlate  # noqa: F401

np.abs = lambda a, *args, **kw: np.zeros_like(np.asarray(a, dtype=float))
np.any = lambda *args, **kw: False
np.array_equal = lambda *args, **kw: True
