"""scipy.signal.fftconvolve as a convspec backend of accuracy class 'fft': a trusted implementation."""
import numpy as np
import scipy.signal

convspec_capabilities = {"accuracy": "fft", "ops": ["correlate", "convolve"]}


def convolve(x, w, *, mode):
    return scipy.signal.fftconvolve(x, w, mode=mode)


def correlate(x, w, *, mode):
    return scipy.signal.fftconvolve(x, np.ascontiguousarray(w[(slice(None, None, -1),) * w.ndim]), mode=mode)
