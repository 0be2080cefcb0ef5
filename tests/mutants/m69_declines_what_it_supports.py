"""Raises convspec.Unsupported for a case it declares supported (a max pool declining windows
that overhang in ceil mode, with no restriction declared): a decline that would hide a bug."""
import convspec
from convspec._contract import reference
from convspec._contract.functions import pool_output_shape

convspec_capabilities = {"accuracy": "direct", "ops": ["max_pool"]}


def max_pool(x, *, window, stride, padding, ceil_mode=False):
    if ceil_mode and pool_output_shape(x.shape, window=window, stride=stride, padding=padding, ceil_mode=True) != \
            pool_output_shape(x.shape, window=window, stride=stride, padding=padding, ceil_mode=False):
        raise convspec.Unsupported("an overhanging window")
    return reference.max_pool(x, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode).astype(x.dtype)
