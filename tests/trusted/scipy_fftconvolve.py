"""scipy.signal.fftconvolve as a convspec backend of accuracy class 'fft': a trusted implementation."""
import numpy as np
import scipy.signal

convspec_capabilities = {"accuracy": "fft", "ops": ["correlate", "convolve"],
                         "dtypes": ["float32", "float64", "complex64", "complex128"]}


def convolve(x, w, *, mode):
    return scipy.signal.fftconvolve(x, w, mode=mode)


def correlate(x, w, *, mode):
    # correlation is convolution with the kernel flipped and (complex signals) conjugated, as scipy.signal.correlate
    return scipy.signal.fftconvolve(x, np.ascontiguousarray(np.conj(w[(slice(None, None, -1),) * w.ndim])), mode=mode)
