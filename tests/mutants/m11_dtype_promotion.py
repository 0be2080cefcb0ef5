"""float32 inputs come back as float64."""
from convspec._contract import reference


def correlate(x, w, *, mode):
    return reference.correlate(x, w, mode=mode)


def convolve(x, w, *, mode):
    return reference.convolve(x, w, mode=mode)


def conv(x, w, **kw):
    return reference.conv(x, w, **kw)
