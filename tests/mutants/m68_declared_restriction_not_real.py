"""Declares odd_kernels for correlate but computes even kernels anyway: a restriction that is
not real (the declared case should raise, so the declaration can be trusted)."""
from convspec._contract import reference

convspec_capabilities = {"accuracy": "direct", "ops": ["correlate"], "restrictions": ["odd_kernels"]}


def correlate(x, w, *, mode):
    return reference.correlate(x, w, mode=mode).astype(x.dtype)
