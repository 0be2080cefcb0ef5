"""Copy-pasteable reproductions of counterexamples.

A reproduction is Python that rebuilds the arrays of the minimal failing example (as
literals, or from an ``.npz`` file when they are large), loads the backend exactly as the
command line did, repeats the recorded calls and prints the definition's answer for the last
one.
"""

from __future__ import annotations

import os
import re

import numpy as np

#: Arrays with more elements than this are saved to an ``.npz`` file instead of inlined.
INLINE_LIMIT = 300


def _float(v) -> str:
    """A float as Python source that gives back the same value (``np.nan``, ``-np.inf``)."""
    v = float(v)
    if v != v:
        return "np.nan"
    if v in (float("inf"), float("-inf")):
        return "np.inf" if v > 0 else "-np.inf"
    return repr(v)


def _literal(a: np.ndarray) -> str:
    body = np.array2string(a, separator=", ", threshold=a.size + 1, max_line_width=100,
                           formatter={"float_kind": _float})
    return f"np.array({body}, dtype=np.{a.dtype.name})"


def _kwargs(kwargs) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def reproduction(target: str, prop_name: str, calls, message: str, *, save_dir="convspec-counterexamples") -> str:
    """Python source reproducing ``calls`` (a list of :class:`convspec.property.Call`)."""
    names: list[tuple[np.ndarray, str]] = []
    lines, saved = [], {}

    def name_of(a, base):
        for known, n in names:
            if known.shape == a.shape and known.dtype == a.dtype and np.array_equal(known, a, equal_nan=True):
                return n
        count = sum(1 for _, n in names if re.fullmatch(rf"{base}\d*", n))
        n = base if count == 0 else f"{base}{count + 1}"
        names.append((a, n))
        if a.size <= INLINE_LIMIT:
            lines.append(f"{n} = {_literal(a)}")
        else:
            saved[n] = a
            lines.append(f"{n} = data[{n!r}]")
        return n

    body = []
    for i, call in enumerate(calls, 1):
        args = []
        for a, base, layout in zip(call.args, ("x", "w"), call.layouts or (None,) * len(call.args)):
            n = name_of(a, base)
            if layout:
                n = f"as_layout({n}, {layout!r})"
            args.append(n)
        out = "y" if len(calls) == 1 else f"y{i}"
        body.append(f"{out} = b.{call.op}({', '.join(args + [_kwargs(call.kwargs)] if call.kwargs else args)})")
    head = [
        f"# convspec: {prop_name} failed",
        *(f"# {line}" for line in message.splitlines()),
        "import numpy as np",
        "import convspec",
    ]
    if any(c.layouts and any(c.layouts) for c in calls):
        head.append("from convspec.strategies import as_layout")
    head.append(f"b = convspec.load_backend({target!r})")
    if saved:
        os.makedirs(save_dir, exist_ok=True)
        path = os.path.abspath(os.path.join(save_dir, re.sub(r"[^\w.-]", "_", f"{prop_name}.npz")))
        np.savez(path, **saved)
        head.append(f"data = np.load({path!r})")
    tail = []
    if calls:
        last = calls[-1]
        arg_names = [name_of(a, base) for a, base in zip(last.args, ("x", "w"))]
        tail = [f"expected = convspec.reference.{last.op}({', '.join(arg_names + [_kwargs(last.kwargs)])})",
                f"print({'y' if len(calls) == 1 else f'y{len(calls)}'}, expected, sep='\\n')"]
    return "\n".join(head + lines + body + tail)
