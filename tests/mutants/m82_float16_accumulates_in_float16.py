"""A float16 layer sums in float16 (every product and partial sum rounded to float16) without
declaring accumulate='storage': its error grows with the number of taps, far past the
float32-accumulation bound a float16 kernel is held to by default."""
from convspec._contract.arithmetic import conv_in_storage
from convspec._contract.functions import check_conv_args

convspec_capabilities = {"accuracy": "direct", "ops": ["conv"], "dtypes": {"conv": ["float16"]}}


def conv(x, w, *, stride, padding, dilation, groups):
    x, w, stride, padding, dilation, groups = check_conv_args(x, w, stride, padding, dilation, groups, low=True)
    if x.dtype.name != "float16":
        raise ValueError(f"x.dtype={x.dtype}, but should be float16")
    return conv_in_storage(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
