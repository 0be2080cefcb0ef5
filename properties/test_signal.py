"""The signal properties of the catalogue (convspec/catalogue/signal.py), against every --backend."""

from convspec.testing import section_tests

globals().update(section_tests("signal"))
