"""``astropy.convolution``: ``convolve`` (direct) and ``convolve_fft`` as the signal-level
convolution and correlation.

Astropy returns an output the size of the input, centred on the kernel's middle tap, so
kernels must have odd lengths (``convolve`` raises otherwise: declared ``odd_kernels``).
Its conventions, switched off or translated:

- ``normalize_kernel=False``: the kernel is used as given, not divided by its sum;
- ``boundary="fill", fill_value=0``: zeros outside the input, as the contract's padding;
- NaN: astropy replaces NaN inputs (``nan_treatment="fill"``: by 0) instead of letting them
  spread, a documented convention; an output whose window holds a NaN is set to NaN here, as
  IEEE arithmetic of the defining sum gives;
- ``full`` is ``same`` on the input zero-padded by ``(k - 1) / 2`` on each side, ``valid`` a
  slice of it; correlation is convolution with the kernel flipped on every axis.
"""
import numpy as np
from astropy.convolution import convolve as _convolve, convolve_fft as _convolve_fft

from convspec._adapters.opencv import _mode

convspec_capabilities = {"ops": ["correlate", "convolve"], "dtypes": ["float32", "float64"], "accuracy": "direct",
                         "restrictions": ["odd_kernels"],
                         "reasons": {"conv": "astropy.convolution is signal level: one array, one kernel"}}

def _astropy(x, w, fft):
    """astropy's convolution of ``x`` and ``w`` (``convolve_fft`` if ``fft``), centred, the size of ``x``."""
    options = dict(boundary="fill", fill_value=0.0, normalize_kernel=False, nan_treatment="fill", preserve_nan=False)
    return (_convolve_fft if fft else _convolve)(x, w, **options)


def _signal(x, w, mode, flip, fft=False):
    x, w = np.asarray(x), np.asarray(w)
    if x.dtype != w.dtype or x.dtype not in (np.float32, np.float64) or w.ndim != x.ndim:
        raise TypeError(f"astropy.convolution here takes float32/float64 x and w of one dtype and rank, "
                        f"not {x.dtype} {x.shape} and {w.dtype} {w.shape}")
    if any(k % 2 == 0 for k in w.shape):
        raise ValueError(f"w.shape={w.shape}: astropy.convolution takes odd kernel lengths only")
    if mode == "valid" and any(k > m for m, k in zip(x.shape, w.shape)):
        raise ValueError(f"mode='valid' with x.shape={x.shape} and w.shape={w.shape}: valid needs m >= k")
    if flip is False:  # correlation: convolution with the kernel reversed
        w = w[(slice(None, None, -1),) * w.ndim]
    half = tuple((k - 1) // 2 for k in w.shape)
    xp = np.pad(x, tuple((h, h) for h in half))
    full = np.asarray(_astropy(xp, np.ascontiguousarray(w), fft))
    windows = np.asarray(_astropy(np.isnan(xp).astype(np.float64), np.ones(w.shape), fft))
    full = np.where(windows > 0.5, np.nan, full)  # astropy's NaN convention, translated back to IEEE's
    return _mode(full, x.shape, w.shape, mode).astype(x.dtype)


def correlate(x, w, *, mode):
    return _signal(x, w, mode, flip=False)


def convolve(x, w, *, mode):
    return _signal(x, w, mode, flip=True)
