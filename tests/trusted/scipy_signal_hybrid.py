"""scipy.signal.correlate/convolve as a hybrid algorithm (OpenCV's filter2D and others switch
the same way): direct summation up to 25 taps, the FFT above, declared as such."""
import numpy as np
import scipy.signal

convspec_capabilities = {"accuracy": {"direct_up_to": 25, "above": "fft"}, "ops": ["correlate", "convolve"]}

def correlate(x, w, *, mode):
    if w.size <= 25:
        return scipy.signal.correlate(x, w, mode=mode, method="direct")
    return scipy.signal.correlate(x, w, mode=mode, method="fft").astype(x.dtype)

def convolve(x, w, *, mode):
    if w.size <= 25:
        return scipy.signal.convolve(x, w, mode=mode, method="direct")
    return scipy.signal.convolve(x, w, mode=mode, method="fft").astype(x.dtype)
