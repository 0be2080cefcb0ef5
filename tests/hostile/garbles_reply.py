"""expect: fail -- right values, but writes a malformed frame on every descriptor during each call."""
import os

from _wrong import right_conv, right_correlate


def _garble():
    for fd in range(3, 64):
        try:
            os.write(fd, b"CSW1\xff\xff\xff\x7f{not json")
        except OSError:
            pass


def correlate(x, w, *, mode):
    _garble()
    return right_correlate(x, w, mode=mode)


def conv(x, w, **kw):
    _garble()
    return right_conv(x, w, **kw)
