"""The low-precision properties of the catalogue (convspec/_catalogue/precision.py), against every --backend."""

from convspec._frontends.testing import section_tests

globals().update(section_tests("precision"))
