"""The hygiene properties of the catalogue (convspec/_catalogue/hygiene.py), against every --backend."""

from convspec._frontends.testing import section_tests

globals().update(section_tests("hygiene"))
