"""Sphinx configuration of convspec's documentation (MyST Markdown).

Build it with ``bash scripts/docs.sh`` (strict: a warning fails the build).  The property
catalogue page is generated from the catalogue itself at build time (``_ext/catalogue.py``),
so it can never drift from the code; the result pages include the committed reports.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "_ext"))

import convspec  # noqa: E402  (the installed package, or this checkout's)

project = "convspec"
author = "the convspec developers"
copyright = "2026, the convspec developers (BSD-3-Clause)"
release = convspec.__version__
version = release

extensions = ["myst_parser", "sphinx.ext.autodoc", "catalogue"]
source_suffix = {".md": "markdown"}
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_theme_options = {"description": "Property-based verification and benchmarks for convolution and pooling",
                      "fixed_sidebar": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"
suppress_warnings = ["myst.xref_missing"]
