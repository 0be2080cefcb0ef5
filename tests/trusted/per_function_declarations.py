"""The plain backend declared per function as a deployment library has it: conv for integer
and bfloat16 data only, its input gradient and the average pool for float32 and float64 only.
Properties relating two functions must use the backend's second function only for what it
declares (the reference otherwise): no false alarm."""
import numpy as np

from convspec.impls import naive

convspec_capabilities = {
    "accuracy": "direct",
    "ops": ["conv", "conv_grad_input", "avg_pool"],
    "dtypes": {"conv": ["int8", "uint8", "bfloat16"], "conv_grad_input": ["float32", "float64"],
               "avg_pool": ["float32", "float64"]},
}
_DTYPES = convspec_capabilities["dtypes"]


def _declared(name, fn):
    def checked(*args, **kwargs):
        if np.asarray(args[0]).dtype.name not in _DTYPES[name]:
            raise TypeError(f"{name} supports {', '.join(_DTYPES[name])}, not {np.asarray(args[0]).dtype}")
        return fn(*args, **kwargs)

    checked.__name__ = name
    return checked


conv = _declared("conv", naive.conv)
conv_grad_input = _declared("conv_grad_input", naive.conv_grad_input)
avg_pool = _declared("avg_pool", naive.avg_pool)
