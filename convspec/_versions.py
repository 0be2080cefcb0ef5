"""Versions: of convspec, and of its catalogue (read by pyproject.toml and the command line
without importing the catalogue)."""

__version__ = "0.3.0"

#: Catalogue versions, oldest first: the convspec releases whose catalogue differed from the one
#: before (CHANGELOG.md says how).  A run pinned to one of them runs exactly its properties.
CATALOGUE_VERSIONS = ("0.1.0", "0.2.0", "0.3.0")
