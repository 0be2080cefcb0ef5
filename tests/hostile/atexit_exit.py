"""expect: fail -- wrong, and registers os._exit(0) to run at exit."""
import atexit
import os

from _wrong import conv, correlate  # noqa: F401

atexit.register(os._exit, 0)
