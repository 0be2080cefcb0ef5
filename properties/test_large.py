"""The large-size properties of the catalogue (convspec/_catalogue/large.py), against every --backend."""

from convspec._frontends.testing import section_tests

globals().update(section_tests("large"))
