"""The signal properties of the catalogue (convspec/_catalogue/signal.py), against every --backend."""

from convspec._frontends.testing import section_tests

globals().update(section_tests("signal"))
