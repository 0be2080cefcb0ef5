"""Performance peers that are not shipped adapters: the libraries' own fastest entry points for
the signal functions (the ``scipy`` adapter uses the direct method, which checks definitions,
not speed)."""

from __future__ import annotations

import numpy as np


class _Scipy:
    """``scipy.signal.correlate``/``convolve`` with ``method='auto'`` (SciPy's own choice of
    direct or FFT)."""

    convspec_capabilities = {"ops": ["correlate", "convolve"], "accuracy": "fft"}

    @staticmethod
    def correlate(x, w, *, mode):
        import scipy.signal

        return scipy.signal.correlate(x, w, mode=mode, method="auto")

    @staticmethod
    def convolve(x, w, *, mode):
        import scipy.signal

        return scipy.signal.convolve(x, w, mode=mode, method="auto")


class _Numpy:
    """``numpy.correlate``/``convolve`` (1-D), ``same`` cut at ``(k - 1) // 2`` as the contract says."""

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


scipy = _Scipy()
numpy = _Numpy()
