"""float16 and bfloat16 layers summed in the input dtype that declare it (accumulate='storage'):
held to the storage-precision bound, they pass (the arithmetic of mutants m82 and m83, declared)."""
from convspec._contract.arithmetic import conv_in_storage
from convspec._contract.functions import check_conv_args

convspec_capabilities = {"accuracy": "direct", "ops": ["conv"], "dtypes": {"conv": ["float16", "bfloat16"]},
                         "accumulate": "storage"}


def conv(x, w, *, stride, padding, dilation, groups):
    x, w, stride, padding, dilation, groups = check_conv_args(x, w, stride, padding, dilation, groups, low=True)
    if x.dtype.name not in ("float16", "bfloat16"):
        raise ValueError(f"x.dtype={x.dtype}, but should be float16 or bfloat16")
    return conv_in_storage(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
