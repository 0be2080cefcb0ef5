"""OpenCV's ``cv2.filter2D`` as the signal-level correlation and convolution.

``filter2D`` correlates an image with a kernel: ``dst[i, j] = sum_mn kernel[m, n] *
src[i + m - anchor_y, j + n - anchor_x]``, the same size as ``src``, with a border rule for
what lies outside.  The translation: the input is zero-padded by ``k - 1`` on every side with
NumPy, the anchor is the kernel's first tap, and the library's output over the padded image
holds every overlap (``full``); ``same`` and ``valid`` are slices of it.  Convolution is
``filter2D`` with the kernel flipped on both axes (``cv2.flip``), as OpenCV's documentation
says to do.  A 1-D signal is a one-row image.

OpenCV sums small kernels directly and switches to a DFT for large ones (in 4.x: 50 taps and
more, 130 for float32 with SSE3), so the declaration is a hybrid: the direct bound up to 49
taps, the FFT bound above.  The DNN module's convolution is not adapted (it needs a model).
"""
import cv2
import numpy as np

convspec_capabilities = {
    "ops": ["correlate", "convolve"], "ndims": [1, 2], "dtypes": ["float32", "float64"],
    "accuracy": {"direct_up_to": 49, "above": "fft"},
    "reasons": {"conv": "OpenCV's image filters take one channel and one kernel; the layer is its DNN module's"},
}


def _full(x, w):
    """Every overlap of ``x`` and ``w`` (2-D), by filter2D on the zero-padded image."""
    k0, k1 = w.shape
    xp = np.pad(x, ((k0 - 1, k0 - 1), (k1 - 1, k1 - 1)))
    y = cv2.filter2D(xp, -1, np.ascontiguousarray(w), anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    return y[:x.shape[0] + k0 - 1, :x.shape[1] + k1 - 1]


def _mode(full, x_shape, w_shape, mode):
    if mode == "full":
        return full
    if mode == "valid":
        return full[tuple(slice(k - 1, m) for m, k in zip(x_shape, w_shape))]
    if mode == "same":  # centred as NumPy and SciPy centre it: the first (k - 1) // 2 rows of full dropped
        return full[tuple(slice((k - 1) // 2, (k - 1) // 2 + m) for m, k in zip(x_shape, w_shape))]
    raise ValueError(f"mode={mode!r}, but should be 'full', 'same' or 'valid'")


def _signal(x, w, mode, flip):
    if x.dtype != w.dtype or x.dtype not in (np.float32, np.float64) or x.ndim not in (1, 2) or w.ndim != x.ndim:
        raise TypeError(f"cv2.filter2D here takes 1-D or 2-D float32/float64 x and w of one dtype, "
                        f"not {x.dtype} {x.shape} and {w.dtype} {w.shape}")
    if mode == "valid" and any(k > m for m, k in zip(x.shape, w.shape)):
        raise ValueError(f"mode='valid' with x.shape={x.shape} and w.shape={w.shape}: valid needs m >= k")
    x2, w2 = (x[None], w[None]) if x.ndim == 1 else (x, w)
    if flip:
        w2 = cv2.flip(np.ascontiguousarray(w2), -1)
    y = _mode(_full(np.ascontiguousarray(x2), w2), x2.shape, w2.shape, mode)
    return y[0] if x.ndim == 1 else y


def correlate(x, w, *, mode):
    return _signal(np.asarray(x), np.asarray(w), mode, flip=False)


def convolve(x, w, *, mode):
    return _signal(np.asarray(x), np.asarray(w), mode, flip=True)
