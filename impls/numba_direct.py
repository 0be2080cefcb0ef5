"""Compiled direct loops (Numba, ``cache=True`` so a second process does not recompile).

One kernel serves 1-D, 2-D and 3-D: lower dimensions get singleton spatial axes.  The input
is zero-padded once, so the inner loops carry no bounds tests.  Products are accumulated in
float64 and rounded once to the input dtype.
"""

import numba
import numpy as np

from convspec.contract import check_conv_args, conv_output_shape

from ._layout import signal_via_conv

convspec_capabilities = {"accuracy": "direct", "validates_arguments": True}


@numba.njit(cache=True, nogil=True)
def _conv3d(xp, w, groups, stride, dilation, y):
    n_batch, _, _, _, _ = xp.shape
    c_out, c_group, k0, k1, k2 = w.shape
    _, _, o0, o1, o2 = y.shape
    s0, s1, s2 = stride
    d0, d1, d2 = dilation
    o_group = c_out // groups
    for n in range(n_batch):
        for o in range(c_out):
            first = (o // o_group) * c_group
            for i0 in range(o0):
                for i1 in range(o1):
                    for i2 in range(o2):
                        acc = 0.0
                        for c in range(c_group):
                            for j0 in range(k0):
                                for j1 in range(k1):
                                    for j2 in range(k2):
                                        acc += xp[n, first + c, i0 * s0 + j0 * d0, i1 * s1 + j1 * d1, i2 * s2 + j2 * d2] * w[o, c, j0, j1, j2]
                        y[n, o, i0, i1, i2] = acc


def conv(x, w, *, stride=None, padding=None, dilation=None, groups=1):
    """Layer convolution (eq. 9.7/9.8) as compiled direct loops."""
    x, w, stride, padding, dilation, groups = check_conv_args(x, w, stride, padding, dilation, groups)
    out = conv_output_shape(x.shape, w.shape, stride=stride, padding=padding, dilation=dilation)
    lift = 3 - (x.ndim - 2)
    xp = np.pad(x, ((0, 0), (0, 0)) + padding)
    xp = xp.reshape(xp.shape + (1,) * lift)
    wc = np.ascontiguousarray(w).reshape(w.shape + (1,) * lift)
    y = np.empty(out + (1,) * lift, dtype=x.dtype)
    _conv3d(xp, wc, groups, tuple(stride) + (1,) * lift, tuple(dilation) + (1,) * lift, y)
    return y.reshape(out)


def correlate(x, w, *, mode):
    return signal_via_conv(conv, x, w, mode, flip=False)


def convolve(x, w, *, mode):
    return signal_via_conv(conv, x, w, mode, flip=True)
