"""The gradients properties of the catalogue (convspec/catalogue/gradients.py), against every --backend."""

from convspec._frontends.testing import section_tests

globals().update(section_tests("gradients"))
