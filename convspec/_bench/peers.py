"""Performance peers that are not shipped adapters: each library's own entry points, called as
its users call them (the ``scipy`` adapter uses the direct method, which checks definitions,
not speed): SciPy's ``convolve`` with ``method='auto'``, ``'direct'`` and ``'fft'``,
``oaconvolve`` and ``ndimage.convolve``; ``numpy.convolve``; PyTorch natively."""

from __future__ import annotations

import numpy as np


class _SignalPeer:
    """A library's ``same``-mode signal function as a peer: ``correlate`` by ``convolve`` with
    the kernel reversed and conjugated (every one here convolves)."""

    convspec_capabilities = {"ops": ["correlate", "convolve"], "accuracy": "fft"}

    def __init__(self, convolve_same, ndims=(1, 2, 3), accuracy="fft"):
        self._same = convolve_same
        self.convspec_capabilities = {**self.convspec_capabilities, "ndims": list(ndims), "accuracy": accuracy}

    def convolve(self, x, w, *, mode):
        if mode != "same":
            raise ValueError(f"mode={mode!r}, but this peer is timed in 'same' mode only")
        return self._same(x, w)

    def correlate(self, x, w, *, mode):
        return self.convolve(x, np.conj(w[(slice(None, None, -1),) * w.ndim]), mode=mode)


def _scipy_signal(method):
    def same(x, w):
        import scipy.signal

        if method == "oa":
            return scipy.signal.oaconvolve(x, w, mode="same")
        return scipy.signal.convolve(x, w, mode="same", method=method)
    return same


def _ndimage_same(x, w):
    """``scipy.ndimage.convolve`` centres the kernel at ``k // 2``; ``same`` starts at ``(k - 1) // 2``."""
    import scipy.ndimage

    return scipy.ndimage.convolve(x, w, mode="constant", origin=[(k - 1) // 2 - k // 2 for k in w.shape])


class _Numpy:
    """``numpy.correlate``/``convolve`` (1-D; correlate conjugates the kernel as the contract
    says), every mode cut from ``full`` at ``(k - 1) // 2`` as the contract says."""

    convspec_capabilities = {"ops": ["correlate", "convolve"], "accuracy": "direct", "ndims": [1]}

    @staticmethod
    def _cut(full, m, k, mode):
        start = {"full": 0, "same": (k - 1) // 2, "valid": k - 1}[mode]
        return full[start:start + {"full": m + k - 1, "same": m, "valid": m - k + 1}[mode]]

    @classmethod
    def correlate(cls, x, w, *, mode):
        return cls._cut(np.correlate(x, w, mode="full"), x.size, w.size, mode)

    @classmethod
    def convolve(cls, x, w, *, mode):
        return cls._cut(np.convolve(x, w, mode="full"), x.size, w.size, mode)


class _Torch:
    """PyTorch called natively, as a model would call it: symmetric padding passed to the op
    (not added by a copy), the gradients by autograd of the same layer, pools with PyTorch's
    own padding when the problem has it (window // 2 at most).  For timing only: the shipped
    ``torch`` adapter, which translates every convention, is the one that is checked."""

    convspec_capabilities = {"ops": ["conv", "conv_grad_input", "conv_grad_weight", "max_pool", "avg_pool",
                                     "adaptive_max_pool", "adaptive_avg_pool"]}

    @staticmethod
    def _f(name, nd):
        import torch.nn.functional as F

        return getattr(F, f"{name}{nd}d")

    @staticmethod
    def _t(a):
        from convspec._adapters.torch import _t

        return _t(a)

    @classmethod
    def _conv(cls, x, w, stride, padding, dilation, groups):
        import torch.nn.functional as F

        before = [a for a, _ in padding]
        if any(a != b for a, b in padding):  # asymmetric: PyTorch has no keyword for it
            x = F.pad(x, [v for a, b in reversed(padding) for v in (a, b)])
            before = [0] * len(padding)
        return cls._f("conv", x.ndim - 2)(x, w, stride=tuple(stride), padding=tuple(before), dilation=tuple(dilation),
                                          groups=groups)

    def conv(self, x, w, *, stride, padding, dilation, groups, bias=None):
        import torch

        with torch.no_grad():
            return self._conv(self._t(x), self._t(w), stride, padding, dilation, groups).numpy()

    def _grad(self, gy, x, w, kw, of):
        xt, wt = self._t(x).requires_grad_(of == "x"), self._t(w).requires_grad_(of == "w")
        self._conv(xt, wt, **kw).backward(self._t(gy))
        return (xt if of == "x" else wt).grad.numpy()

    def conv_grad_input(self, gy, w, *, input_shape, stride, padding, dilation, groups):
        kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        return self._grad(gy, np.zeros(input_shape, gy.dtype), w, kw, "x")

    def conv_grad_weight(self, gy, x, *, weight_shape, stride, padding, dilation, groups):
        kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        return self._grad(gy, x, np.zeros(weight_shape, gy.dtype), kw, "w")

    def _pool(self, name, x, window, stride, padding, **kw):
        if any(a != b or a > k // 2 for (a, b), k in zip(padding, window)):
            raise ValueError("the native PyTorch peer takes symmetric padding of at most window // 2")
        return self._f(name, x.ndim - 2)(self._t(x), tuple(window), tuple(stride), tuple(a for a, _ in padding),
                                          **kw).numpy()

    def max_pool(self, x, *, window, stride, padding, ceil_mode=False):
        return self._pool("max_pool", x, window, stride, padding, ceil_mode=ceil_mode)

    def avg_pool(self, x, *, window, stride, padding, ceil_mode=False, count_padding=False):
        return self._pool("avg_pool", x, window, stride, padding, ceil_mode=ceil_mode, count_include_pad=count_padding)

    def adaptive_max_pool(self, x, *, output_size):
        return self._f("adaptive_max_pool", x.ndim - 2)(self._t(x), tuple(output_size)).numpy()

    def adaptive_avg_pool(self, x, *, output_size):
        return self._f("adaptive_avg_pool", x.ndim - 2)(self._t(x), tuple(output_size)).numpy()


scipy = _SignalPeer(_scipy_signal("auto"))
scipy_direct = _SignalPeer(_scipy_signal("direct"), accuracy="direct")
scipy_fft = _SignalPeer(_scipy_signal("fft"))
scipy_oaconvolve = _SignalPeer(_scipy_signal("oa"))
scipy_ndimage = _SignalPeer(_ndimage_same, accuracy="direct")
numpy = _Numpy()
torch = _Torch()
