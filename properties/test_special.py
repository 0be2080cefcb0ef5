"""The special-value properties of the catalogue (convspec/_catalogue/special.py), against every --backend."""

from convspec._frontends.testing import section_tests

globals().update(section_tests("special"))
