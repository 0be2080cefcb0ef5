"""``astropy.convolution.convolve_fft``: the translation of :mod:`convspec._adapters.astropy`
around astropy's FFT convolution (the FFT accuracy class)."""
from convspec._adapters import astropy as _direct
from convspec._adapters.astropy import _signal

convspec_capabilities = {**_direct.convspec_capabilities, "accuracy": "fft"}


def correlate(x, w, *, mode):
    return _signal(x, w, mode, flip=False, fft=True)


def convolve(x, w, *, mode):
    return _signal(x, w, mode, flip=True, fft=True)
