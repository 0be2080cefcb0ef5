"""The integer-data properties of the catalogue (convspec/catalogue/integer.py), against every --backend."""

from convspec._frontends.testing import section_tests

globals().update(section_tests("integer"))
