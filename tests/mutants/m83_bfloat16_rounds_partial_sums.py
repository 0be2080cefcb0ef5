"""A bfloat16 layer rounds every partial sum to bfloat16 (8 significant bits) without declaring
accumulate='storage': a sum of many taps drifts far past the float32-accumulation bound."""
from convspec._contract.arithmetic import conv_in_storage
from convspec._contract.functions import check_conv_args

convspec_capabilities = {"accuracy": "direct", "ops": ["conv"], "dtypes": {"conv": ["bfloat16"]}}


def conv(x, w, *, stride, padding, dilation, groups):
    x, w, stride, padding, dilation, groups = check_conv_args(x, w, stride, padding, dilation, groups, low=True)
    if x.dtype.name != "bfloat16":
        raise ValueError(f"x.dtype={x.dtype}, but should be bfloat16")
    return conv_in_storage(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
