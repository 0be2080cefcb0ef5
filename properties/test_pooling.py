"""The pooling properties of the catalogue (convspec/_catalogue/pooling.py), against every --backend."""

from convspec._frontends.testing import section_tests

globals().update(section_tests("pooling"))
