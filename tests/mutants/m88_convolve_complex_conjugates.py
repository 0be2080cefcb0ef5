"""Complex convolve conjugates the kernel (a correlation's convention carried over): sum_j
x[i - j] conj(w[j]) instead of the convolution sum, which conjugates nothing."""
import numpy as np
from convspec._contract import reference

convspec_capabilities = {"accuracy": "direct", "ops": ["convolve"], "dtypes": ["complex64", "complex128"]}


def convolve(x, w, *, mode):
    if not (np.iscomplexobj(x) and x.dtype == w.dtype):
        raise ValueError(f"x.dtype={x.dtype}, but should be complex64 or complex128 (like w)")
    return reference.convolve(x, np.conj(w), mode=mode).astype(x.dtype)
