"""complex128 correlate computed in complex64 (a single-precision kernel behind a
double-precision signature): exact on small Gaussian integers, far off on real data."""
import numpy as np
from convspec._contract import reference

convspec_capabilities = {"accuracy": "direct", "ops": ["correlate"], "dtypes": ["complex128"]}


def correlate(x, w, *, mode):
    if x.dtype != np.complex128 or w.dtype != np.complex128:
        raise ValueError(f"x.dtype={x.dtype}, but should be complex128")
    y = reference.correlate(x.astype(np.complex64), w.astype(np.complex64), mode=mode, acc=np.float32)
    return y.astype(np.complex128)
