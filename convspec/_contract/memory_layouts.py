"""Non-contiguous memory layouts of the same values (the ``memory-layout`` concept).

Kept free of hypothesis so that the executor process (which rebuilds the judge's layouts
before calling a backend) imports only NumPy.
"""

from __future__ import annotations

import weakref

import numpy as np

LAYOUTS = ("fortran", "transposed", "strided", "reversed", "offset")

_LAYOUT_TAGS: dict[int, tuple] = {}  # id -> (weak reference, kind)


def as_layout(a: np.ndarray, kind: str) -> np.ndarray:
    """The values of ``a`` held in memory laid out as ``kind``; never a C-contiguous copy.

    ``fortran``: column-major.  ``transposed``: axes of a contiguous buffer in reverse
    order, viewed back.  ``strided``: every other element of a larger buffer.  ``reversed``:
    negative strides on every axis.  ``offset``: a view starting one element into a buffer.
    """
    if kind == "fortran":
        out = np.asfortranarray(a)
    elif kind == "transposed":
        out = np.ascontiguousarray(a.transpose()).transpose()
    elif kind == "strided":
        big = np.zeros(tuple(2 * s for s in a.shape), dtype=a.dtype)
        view = big[(slice(None, None, 2),) * a.ndim]
        view[...] = a
        out = view
    elif kind == "reversed":
        rev = (slice(None, None, -1),) * a.ndim
        out = np.ascontiguousarray(a[rev])[rev]
    elif kind == "offset":
        buf = np.zeros(a.size + 1, dtype=a.dtype)
        buf[1:] = a.ravel()
        out = buf[1:].reshape(a.shape)
    else:
        raise ValueError(f"kind={kind!r}, but should be one of {LAYOUTS}")
    _LAYOUT_TAGS[id(out)] = (weakref.ref(out, lambda ref, key=id(out): _forget(ref, key)), kind)
    return out


def _forget(ref, key):
    if _LAYOUT_TAGS.get(key, (None,))[0] is ref:
        del _LAYOUT_TAGS[key]


def layout_of(a) -> str | None:
    """The layout name :func:`as_layout` gave ``a``, for reproductions (``None``: plain)."""
    ref, kind = _LAYOUT_TAGS.get(id(a), (None, None))
    if ref is None or ref() is not a:
        return None
    return kind


def base_of(a: np.ndarray) -> np.ndarray:
    """The array that owns ``a``'s memory (``a`` itself if it owns it)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a
