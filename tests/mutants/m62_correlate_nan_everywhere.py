"""A direct-declared correlate that turns the whole output NaN when the input holds any NaN (an undeclared transform's behaviour)."""
import numpy as np
from convspec._contract import reference

convspec_capabilities = {"accuracy": "direct"}


def correlate(x, w, *, mode):
    y = reference.correlate(x, w, mode=mode).astype(x.dtype)
    if np.isnan(x).any() or np.isnan(w).any():
        y[...] = np.nan
    return y
