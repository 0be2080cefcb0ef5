"""The right one of two same-named targets: its neighbour helper is right."""
from helper import conv, correlate  # noqa: F401
