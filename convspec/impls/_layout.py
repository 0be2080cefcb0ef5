"""Helpers shared by the bundled fast backends (not by ``naive``, which stays independent)."""

import math
import threading

import numpy as np

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


_scratch = threading.local()


def scratch(name, shape, dtype):
    """A work array reused across calls in this thread (one per ``name``, its contents undefined).

    Fresh multi-megabyte arrays are page-faulted in on first touch, which costs as much as a
    small layer's arithmetic; results are never scratch, so callers still own their outputs.
    """
    shape = tuple(int(s) for s in shape)
    size, dtype = math.prod(shape), np.dtype(dtype)
    cache = _scratch.__dict__
    held = cache.get(name)
    if held is None or held.size < size or held.dtype != dtype:
        held = cache[name] = np.empty(size, dtype=dtype)  # grows, never shrinks: blocks of a call differ in size
    return held[:size].reshape(shape)


def lp_norm(a, p, axis):
    """``(sum |a|^p) ** (1/p)`` over ``axis``, computed as ``m (sum (|a|/m)^p) ** (1/p)`` with
    ``m`` the largest ``|a|``: ``|a|^p`` itself overflows for ``|a| > max ** (1/p)`` (about
    1.8e19 in float32 for p = 2) and underflows for tiny values, where the norm is still
    representable.  NaN gives NaN, an infinite value infinity, an all-zero window zero."""
    a = np.abs(a)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where((m > 0) & np.isfinite(m), m, np.ones_like(m))
    p = a.dtype.type(p)
    return (np.sum((a / m) ** p, axis=axis) ** (a.dtype.type(1) / p)) * np.squeeze(m, axis=axis)
