"""A user's test suite inheriting the whole catalogue (the pandas extension-test style).

These few lines are all a user writes; every property becomes a test here, skipped where
it does not apply (numpy.convolve is 1-D, signal level only).
"""

import os

from convspec.testing import Conformance

HERE = os.path.dirname(os.path.abspath(__file__))


class TestNumpyConvolve(Conformance):
    backend = os.path.join(HERE, "trusted", "numpy_convolve.py")
    profile = "quick"
