"""The quantised-conv properties of the catalogue (convspec/_catalogue/quantized.py), against every --backend."""

from convspec._frontends.testing import section_tests

globals().update(section_tests("quantized"))
