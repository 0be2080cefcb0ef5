"""Helpers shared by the bundled fast backends (not by ``naive``, which stays independent)."""


from convspec.contract import check_bias, check_signal_args, signal_as_conv_padding


def flipped(w):
    """``w`` reversed on every axis: convolution is correlation with this kernel (eq. 9.4 vs 9.6)."""
    return w[(slice(None, None, -1),) * w.ndim]


def signal_via_conv(conv, x, w, mode, *, flip):
    """``correlate``/``convolve`` as a single-channel, stride-1 ``conv`` with the mode's padding."""
    x, w = check_signal_args(x, w, mode)
    if flip:
        w = flipped(w)
    ones = (1,) * x.ndim
    y = conv(x[None, None], w[None, None], stride=ones, dilation=ones,
             padding=signal_as_conv_padding(w.shape, mode), groups=1)
    return y[0, 0]


def add_bias(y, bias):
    """``y`` plus a shared ``(C_out,)`` or untied ``(C_out, *O)`` bias (checked), in place."""
    bias = check_bias(bias, {(y.shape[1],), y.shape[1:]}, y.dtype)
    if bias is not None:
        y += bias.reshape(bias.shape + (1,) * (y.ndim - 1 - bias.ndim))
    return y
