"""The wrong one of two same-named targets: its neighbour helper is wrong."""
from helper import conv, correlate  # noqa: F401
