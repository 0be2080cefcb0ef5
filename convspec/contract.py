"""The backend contract: names, keywords, output shapes and argument checks.

Everything a backend must agree on lives here once (SPEC §2):

Signal level (single channel, like ``scipy.signal``)::

    correlate(x, w, *, mode)      cross-correlation, eq. 9.6
    convolve(x, w, *, mode)       convolution (kernel flipped), eq. 9.4

``x.ndim == w.ndim`` in {1, 2, 3}.  Output length per axis, for input length ``m`` and
kernel length ``k``:

======  ===========  =====================================================
mode    length       position
======  ===========  =====================================================
full    m + k - 1    every overlap of x and w
same    m            slice of ``full`` starting at ``(k - 1) // 2``
valid   m - k + 1    only complete overlaps; requires ``m >= k``
======  ===========  =====================================================

Layer level (batched, channels first, like deep-learning libraries)::

    conv(x, w, *, stride, padding, dilation, groups)     eq. 9.7 / 9.8

``x: (N, C_in, *S)``, ``w: (C_out, C_in // groups, *K)``; ``stride`` and ``dilation`` are
tuples of positive ints (one per spatial axis); ``padding`` is a tuple of ``(before, after)``
pairs of non-negative ints; output channel ``o`` reads input group ``o // (C_out // groups)``.
Output ``(N, C_out, *O)`` with
``O_i = (S_i + before_i + after_i - dilation_i * (K_i - 1) - 1) // stride_i + 1``.

The ``check_*`` functions are what the bundled backends call to reject bad arguments with
a ``ValueError`` naming the argument and its value.
"""

from __future__ import annotations

import numbers

import numpy as np

#: Contract functions, by level.
SIGNAL_OPS = ("correlate", "convolve")
LAYER_OPS = ("conv",)
OPS = SIGNAL_OPS + LAYER_OPS

MODES = ("full", "same", "valid")
NDIMS = (1, 2, 3)
DTYPES = ("float32", "float64")


# ---------------------------------------------------------------- output sizes


def signal_output_length(m: int, k: int, mode: str) -> int:
    """Output length of ``correlate``/``convolve`` on one axis (see the module table)."""
    if mode == "full":
        return m + k - 1
    if mode == "same":
        return m
    if mode == "valid":
        return m - k + 1
    raise ValueError(f"mode={mode!r}, but should be one of {MODES}")


def signal_output_shape(x_shape, w_shape, mode: str) -> tuple[int, ...]:
    return tuple(signal_output_length(m, k, mode) for m, k in zip(x_shape, w_shape))


def same_offset(k: int) -> int:
    """Start of the ``same`` slice inside the ``full`` output (SciPy / NumPy convention)."""
    return (k - 1) // 2


def conv_output_length(s: int, k: int, stride: int, before: int, after: int, dilation: int) -> int:
    """``O = (S + before + after - dilation * (K - 1) - 1) // stride + 1``."""
    return (s + before + after - dilation * (k - 1) - 1) // stride + 1


def conv_output_shape(x_shape, w_shape, *, stride, padding, dilation, groups=1) -> tuple[int, ...]:
    n, _, *spatial = x_shape
    c_out, _, *kernel = w_shape
    return (n, c_out) + tuple(
        conv_output_length(s, k, st, p[0], p[1], d)
        for s, k, st, p, d in zip(spatial, kernel, stride, padding, dilation)
    )


# ---------------------------------------------------------------- argument checks


def _float_array(name: str, a) -> np.ndarray:
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} is a {type(a).__name__}, but should be a numpy.ndarray")
    if a.dtype not in (np.float32, np.float64):
        raise ValueError(f"{name}.dtype={a.dtype}, but should be float32 or float64")
    return a


def check_signal_args(x, w, mode: str):
    """Validate ``correlate``/``convolve`` arguments; returns ``(x, w)``."""
    x = _float_array("x", x)
    w = _float_array("w", w)
    if w.dtype != x.dtype:
        raise ValueError(f"w.dtype={w.dtype}, but should equal x.dtype={x.dtype}")
    if x.ndim not in NDIMS:
        raise ValueError(f"x.ndim={x.ndim}, but should be 1, 2 or 3")
    if w.ndim != x.ndim:
        raise ValueError(f"w.ndim={w.ndim}, but should equal x.ndim={x.ndim}")
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}, but should be one of {MODES}")
    if 0 in x.shape or 0 in w.shape:
        raise ValueError(f"x.shape={x.shape}, w.shape={w.shape}, but no axis may be empty")
    if mode == "valid" and any(k > m for m, k in zip(x.shape, w.shape)):
        raise ValueError(
            f"mode='valid' with x.shape={x.shape} and w.shape={w.shape}, "
            "but valid mode requires m >= k on every axis"
        )
    return x, w


def _int_tuple(name: str, value, nd: int, *, minimum: int) -> tuple[int, ...]:
    if value is None:
        value = (minimum,) * nd if minimum > 0 else (0,) * nd
    if isinstance(value, numbers.Integral):
        value = (int(value),) * nd
    try:
        value = tuple(value)
    except TypeError:
        raise ValueError(f"{name}={value!r}, but should be a tuple of {nd} ints") from None
    if len(value) != nd or not all(isinstance(v, numbers.Integral) for v in value):
        raise ValueError(f"{name}={value!r}, but should be a tuple of {nd} ints")
    if any(v < minimum for v in value):
        bound = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{name}={value!r}, but every entry should be {bound}")
    return tuple(int(v) for v in value)


def _padding(value, nd: int) -> tuple[tuple[int, int], ...]:
    if value is None:
        return ((0, 0),) * nd
    if isinstance(value, numbers.Integral):
        value = ((value, value),) * nd
    try:
        pairs = tuple(tuple(p) for p in value)
    except TypeError:
        raise ValueError(
            f"padding={value!r}, but should be a tuple of {nd} (before, after) pairs"
        ) from None
    if len(pairs) != nd or any(
        len(p) != 2 or not all(isinstance(v, numbers.Integral) for v in p) for p in pairs
    ):
        raise ValueError(f"padding={value!r}, but should be a tuple of {nd} (before, after) pairs")
    if any(v < 0 for p in pairs for v in p):
        raise ValueError(f"padding={value!r}, but every entry should be non-negative")
    return tuple((int(a), int(b)) for a, b in pairs)


def check_conv_args(x, w, stride, padding, dilation, groups):
    """Validate ``conv`` arguments.

    Returns ``(x, w, stride, padding, dilation, groups)`` normalised to tuples; ints are
    accepted for convenience and broadcast to every spatial axis.
    """
    x = _float_array("x", x)
    w = _float_array("w", w)
    if w.dtype != x.dtype:
        raise ValueError(f"w.dtype={w.dtype}, but should equal x.dtype={x.dtype}")
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"x.ndim={x.ndim}, but should be 3, 4 or 5 (N, C_in, *S)")
    if w.ndim != x.ndim:
        raise ValueError(f"w.ndim={w.ndim}, but should equal x.ndim={x.ndim} (C_out, C_in/groups, *K)")
    nd = x.ndim - 2
    if 0 in x.shape or 0 in w.shape:
        raise ValueError(f"x.shape={x.shape}, w.shape={w.shape}, but no axis may be empty")
    if not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"groups={groups!r}, but should be a positive int")
    groups = int(groups)
    c_in, c_out = x.shape[1], w.shape[0]
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"groups={groups}, but should divide C_in={c_in} and C_out={c_out}"
        )
    if w.shape[1] * groups != c_in:
        raise ValueError(
            f"w.shape[1]={w.shape[1]}, but should be C_in/groups={c_in}/{groups}"
        )
    stride = _int_tuple("stride", stride, nd, minimum=1)
    dilation = _int_tuple("dilation", dilation, nd, minimum=1)
    padding = _padding(padding, nd)
    for i, (s, k, (a, b), d) in enumerate(zip(x.shape[2:], w.shape[2:], padding, dilation)):
        if s + a + b < d * (k - 1) + 1:
            raise ValueError(
                f"w.shape={w.shape} with dilation={dilation} spans {d * (k - 1) + 1} on axis {i}, "
                f"but the padded input x is only {s + a + b} long there"
            )
    return x, w, stride, padding, dilation, groups


def signal_as_conv_padding(w_shape, mode: str) -> tuple[tuple[int, int], ...]:
    """The ``conv`` padding that makes a stride-1 ``conv`` produce ``correlate(..., mode)``."""
    if mode == "valid":
        return tuple((0, 0) for _ in w_shape)
    if mode == "full":
        return tuple((k - 1, k - 1) for k in w_shape)
    return tuple((k - 1 - same_offset(k), same_offset(k)) for k in w_shape)
