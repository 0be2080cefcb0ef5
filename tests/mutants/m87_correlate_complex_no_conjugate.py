"""Complex correlate forgets to conjugate the kernel (sum_j x[i + j] w[j], as a real-valued
kernel would be written), where the contract, SciPy and numpy.correlate use conj(w[j])."""
import numpy as np
from convspec._contract import reference

convspec_capabilities = {"accuracy": "direct", "ops": ["correlate"], "dtypes": ["complex64", "complex128"]}


def correlate(x, w, *, mode):
    if not (np.iscomplexobj(x) and x.dtype == w.dtype):
        raise ValueError(f"x.dtype={x.dtype}, but should be complex64 or complex128 (like w)")
    return reference.correlate(x, np.conj(w), mode=mode).astype(x.dtype)  # conj(conj(w)): no conjugate left
