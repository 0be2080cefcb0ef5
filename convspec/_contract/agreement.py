"""Does one call agree with the definition?  The check a reproduction ends with, and the one
the command line uses to find a failure's root cause (the first recorded call that already
disagrees with the definition).

Agreement is judged by the accuracy model (docs/explanation/accuracy.md): every finite output within
the error bound of the backend's accuracy class.  Outputs whose defining sum meets a NaN or an
infinity are left to the special-value properties, whose rules (padding zeros, fft-class
spreading) are finer than one comparison.
"""

from __future__ import annotations

import numpy as np

from convspec._contract import accuracy as _accuracy
from convspec._contract import reference


def _describe(op, args) -> str:
    shapes = [f"{a.dtype}[{', '.join(map(str, a.shape))}]" for a in args]
    return f"{op}({', '.join(shapes)})"


def disagreement(y, op, args, kwargs, accuracy="direct", arithmetic=None) -> str | None:
    """Why ``y``, what a backend returned for ``op(*args, **kwargs)``, disagrees with the
    definition; ``None`` when it agrees or when the definition has no answer for the call."""
    if not isinstance(y, np.ndarray) or not all(isinstance(a, np.ndarray) for a in args):
        return None
    try:
        with np.errstate(all="ignore"):
            expected = np.asarray(getattr(reference, op)(*args, acc=np.longdouble, **kwargs))
    except Exception:  # an invalid call: the definition has no answer
        return None
    what = _describe(op, args)
    if y.shape != expected.shape:
        return f"{what}.shape={y.shape}, but should be {expected.shape} (the definition)"
    special = any(not np.all(np.isfinite(a)) for a in args)
    if special and accuracy != "direct":
        return None  # fft-class backends may spread NaN: the special-value properties judge
    clean = [np.where(np.isfinite(a), a, 0) for a in args]
    with np.errstate(all="ignore"):
        bound = np.broadcast_to(_accuracy.error_bound(accuracy, op, clean, kwargs, args[0].dtype, arithmetic), y.shape)
        compared = np.isfinite(expected)
        if special:  # a NaN where a structural zero met a special value is theirs to judge too
            compared &= np.isfinite(y)
        diff = np.abs(y.astype(np.clongdouble if np.iscomplexobj(y) else np.longdouble) - expected)
        rounded = expected.astype(y.dtype)  # an exact sum past the dtype's range is +-inf in it
        bad = compared & ~(diff <= bound) & ~(np.isinf(rounded) & (rounded == y))
    if not np.any(bad):
        return None
    i = tuple(int(v) for v in np.argwhere(bad)[0])
    number = complex if np.iscomplexobj(y) else float
    return (f"{what}[{', '.join(map(str, i))}]={number(y[i])!r}, but should be {number(expected[i])!r} (the definition, "
            f"within the {accuracy} class's bound {float(bound[i]):.3g}); {int(bad.sum())} of {bad.size} outputs differ")


def assert_matches_definition(y, op, *args, accuracy="direct", arithmetic=None, **kwargs):
    """Raise :class:`AssertionError` unless ``y`` agrees with ``reference.<op>(*args, **kwargs)``
    within the accuracy model's bound for a backend of class ``accuracy`` computing with
    ``arithmetic`` (``{"accumulate": ..., "products": ...}``, docs/explanation/accuracy.md)."""
    why = disagreement(np.asarray(y), op, tuple(np.asarray(a) for a in args), kwargs, accuracy, arithmetic)
    if why:
        raise AssertionError(why)
