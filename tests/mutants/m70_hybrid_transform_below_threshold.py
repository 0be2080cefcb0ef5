"""Declares a hybrid algorithm (direct summation up to 25 taps, FFT above) but uses the FFT for
every kernel: small kernels lose the bit-exact results the declaration promises."""
import numpy as np
import scipy.signal

convspec_capabilities = {"accuracy": {"direct_up_to": 25, "above": "fft"}, "ops": ["correlate", "convolve"]}


def correlate(x, w, *, mode):
    return scipy.signal.correlate(x, w, mode=mode, method="fft").astype(x.dtype)


def convolve(x, w, *, mode):
    return scipy.signal.convolve(x, w, mode=mode, method="fft").astype(x.dtype)
