"""The integer-data properties of the catalogue (convspec/_catalogue/integer.py), against every --backend."""

from convspec._frontends.testing import section_tests

globals().update(section_tests("integer"))
