"""im2col + GEMM: every receptive field unrolled into a row, then one matrix product per group.

The windows are read through a strided view of the padded input (no copy until the
reshape), so stride and dilation cost nothing extra; the GEMM is NumPy's BLAS ``matmul``.
"""

import numpy as np

from convspec.contract import check_conv_args, conv_output_shape

from ._layout import signal_via_conv

convspec_capabilities = {"accuracy": "direct", "validates_arguments": True}


def windows(xp, kernel, out, stride, dilation):
    """View of shape ``(N, C, *O, *K)`` whose ``[n, c, i, j]`` is ``xp[n, c, i*stride + j*dilation]``."""
    s_n, s_c, *s_sp = xp.strides
    shape = xp.shape[:2] + tuple(out) + tuple(kernel)
    strides = (s_n, s_c) + tuple(st * s for st, s in zip(stride, s_sp)) + tuple(d * s for d, s in zip(dilation, s_sp))
    return np.lib.stride_tricks.as_strided(xp, shape=shape, strides=strides, writeable=False)


def conv(x, w, *, stride=None, padding=None, dilation=None, groups=1):
    """Layer convolution (eq. 9.7/9.8) as ``columns @ kernel_matrix.T`` per group."""
    x, w, stride, padding, dilation, groups = check_conv_args(x, w, stride, padding, dilation, groups)
    out = conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation)
    nd = x.ndim - 2
    xp = np.pad(x, ((0, 0), (0, 0)) + padding)
    view = windows(xp, w.shape[2:], out[2:], stride, dilation)
    n, c_out = out[:2]
    c_group, o_group = w.shape[1], c_out // groups
    n_out = int(np.prod(out[2:]))
    y = np.empty((n, c_out, n_out), dtype=x.dtype)
    # (N, Cg, *O, *K) -> (N, *O, Cg, *K): each row is one receptive field
    order = (0,) + tuple(range(2, 2 + nd)) + (1,) + tuple(range(2 + nd, 2 + 2 * nd))
    for g in range(groups):
        cols = view[:, g * c_group:(g + 1) * c_group].transpose(order).reshape(n, n_out, -1)
        kmat = w[g * o_group:(g + 1) * o_group].reshape(o_group, -1)
        y[:, g * o_group:(g + 1) * o_group] = np.matmul(cols, kmat.T).transpose(0, 2, 1)
    return y.reshape(out)


def correlate(x, w, *, mode):
    return signal_via_conv(conv, x, w, mode, flip=False)


def convolve(x, w, *, mode):
    return signal_via_conv(conv, x, w, mode, flip=True)
