"""The gradients properties of the catalogue (convspec/_catalogue/gradients.py), against every --backend."""

from convspec._frontends.testing import section_tests

globals().update(section_tests("gradients"))
