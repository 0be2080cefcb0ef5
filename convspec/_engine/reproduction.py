"""Copy-pasteable reproductions of counterexamples.

A reproduction is a Python script that runs as printed from any folder.  It rebuilds the
arrays of the minimal failing example exactly (literals that give back every value, NaN,
infinities and subnormals included, or an ``.npz`` file in the user's cache when they are
large), loads the backend by absolute path, repeats the recorded calls, shows what came back
beside what the definition gives, and ends with an assertion that fails while the bug is there:

* when a call already disagrees with the definition, :func:`convspec.assert_matches_definition`
  on that call (the root cause the command line groups failures under);
* then, or otherwise, :func:`convspec.recheck`: the property itself on exactly this example
  (replayed from the values it was drawn as), for failures no single call shows (a mutated
  input, a result that shares memory, two calls that should agree).
"""

from __future__ import annotations

import hashlib
import os
import re

import numpy as np

from convspec._engine.backend import LoadError, split_target, target_kind

#: Arrays with more elements than this are saved to an ``.npz`` file instead of inlined.
INLINE_LIMIT = 300


def counterexamples_dir() -> str:
    """Where the arrays of large counterexamples are saved: the user's cache, never the
    current folder (``CONVSPEC_COUNTEREXAMPLES`` overrides it)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.environ.get("CONVSPEC_COUNTEREXAMPLES") or os.path.join(cache, "convspec", "counterexamples")


def _float(v) -> str:
    """A float as Python source that gives back the same value (``np.nan``, ``-np.inf``)."""
    v = float(v)
    if v != v:
        return "np.nan"
    if v in (float("inf"), float("-inf")):
        return "np.inf" if v > 0 else "-np.inf"
    return repr(v)  # the shortest decimal that gives back the double; exact for float32 values


def _literal(a: np.ndarray) -> str:
    if a.dtype.name == "bfloat16":  # written as float32 (which holds every bfloat16 exactly)
        return f"{_literal(a.astype(np.float32))}.astype(ml_dtypes.bfloat16)"
    body = np.array2string(a, separator=", ", threshold=a.size + 1, max_line_width=100,
                           formatter={"float_kind": _float, "int_kind": repr,
                                      "complex_kind": lambda v: f"complex({_float(v.real)}, {_float(v.imag)})"})
    return f"np.array({body}, dtype=np.{a.dtype.name})"


def absolute_target(target: str, cwd: str | None = None) -> tuple[str, list[str]]:
    """TARGET as it loads from any folder, and the lines that make it so: a file by its
    absolute path; an import path with the folder it was found from put on ``sys.path``."""
    cwd = cwd or os.getcwd()
    try:
        kind = target_kind(target) if isinstance(target, str) else None
    except LoadError:  # an object passed in directly is named by its repr: nothing to make absolute
        kind = None
    base, attr = split_target(target) if kind else (target, "")
    if kind == "file":
        path = os.path.abspath(os.path.join(cwd, base))
        return path + (f":{attr}" if attr else ""), []
    if kind == "module":
        return target, ["import sys", f"sys.path.insert(0, {cwd!r})  # where {base} was imported from"]
    return target, []  # bundled, an adapter, an entry point: found from anywhere


def reproduction(target: str, prop_name: str, calls, message: str, *, accuracy="direct", deviating=None,
                 example=None, fixed=None, tries=1, time_limit=None, save_dir=None, profile="default",
                 arithmetic=None) -> str:
    """Python source reproducing ``calls`` (a list of :class:`convspec._catalogue.property.Call`).

    ``deviating``: index of the first call that disagrees with the definition (asserted);
    ``example``: the example's drawn values as a literal (:mod:`convspec._engine.examples`), for :func:`convspec.recheck`
    with the pinned axes ``fixed``, run ``tries`` times (answers that vary between runs).
    ``time_limit``: seconds after which the script stops itself (SIGALRM), for a call that hung."""
    names: list[tuple[np.ndarray, str]] = []
    lines, saved = [], {}

    def name_of(a, base):
        for known, n in names:
            if known.shape == a.shape and known.dtype == a.dtype \
                    and np.ascontiguousarray(known).tobytes() == np.ascontiguousarray(a).tobytes():  # bit for bit
                return n
        count = sum(1 for _, n in names if re.fullmatch(rf"{base}\d*", n))
        n = base if count == 0 else f"{base}{count + 1}"
        names.append((a, n))
        if a.size <= INLINE_LIMIT:
            lines.append(f"{n} = {_literal(a)}")
        elif a.dtype.name == "bfloat16":  # .npz keeps NumPy's own dtypes: float32 holds it exactly
            saved[n] = a.astype(np.float32)
            lines.append(f"{n} = data[{n!r}].astype(ml_dtypes.bfloat16)")
        else:
            saved[n] = a
            lines.append(f"{n} = data[{n!r}]")
        return n

    def arguments(call, with_layouts=True):
        out = []
        for a, base, layout in zip(call.args, ("x", "w"), call.layouts or (None,) * len(call.args)):
            n = name_of(a, base)
            out.append(f"as_layout({n}, {layout!r})" if layout and with_layouts else n)
        for k, v in call.kwargs.items():
            out.append(f"{k}={name_of(v, k) if isinstance(v, np.ndarray) else repr(v)}")
        return ", ".join(out)

    def result_name(i):
        return "y" if len(calls) == 1 else f"y{i + 1}"

    def line(i, c):
        call = f"{result_name(i)} = b.{c.op}({arguments(c)})"
        if not getattr(c, "may_raise", False):
            return [call]
        return ["try:", f"    {call}", "except Exception as e:  # raising is a fine answer here",
                f"    {result_name(i)} = e"]

    body = [text for i, c in enumerate(calls) for text in line(i, c)]
    target, path_lines = absolute_target(target)
    head = [f"# convspec: {prop_name} failed for {target}",
            *(f"# {line}" for line in message.splitlines()),
            "# Runs from any folder; it fails (an exception, or SIGALRM for a hang) while the bug is there.",
            "import numpy as np", "import convspec", *path_lines]
    if time_limit:
        head += ["import signal",
                 f"signal.alarm({int(time_limit) + 1})  # the call hung in the run: the script ends itself after the limit"]
    if any(c.layouts and any(c.layouts) for c in calls):
        head.append("from convspec import as_layout")
    head.append(f"b = convspec.load_backend({target!r})")
    tail = []
    if deviating is not None:
        c, y = calls[deviating], result_name(deviating)
        plain = arguments(c, with_layouts=False)
        tail = [f"# call {deviating + 1} already disagrees with the definition (convspec.reference, plain NumPy):",
                f"print('what came back:', {y}, sep='\\n')",
                f"print('the definition:', convspec.reference.{c.op}({plain}), sep='\\n')",
                f"convspec.assert_matches_definition({y}, {c.op!r}, {plain}, accuracy={accuracy!r}"
                + (f", arithmetic={arithmetic!r})" if arithmetic and arithmetic != {"accumulate": "float32",
                                                                                    "products": "exact"} else ")")]
    elif calls:
        tail = [f"print({', '.join(result_name(i) for i in range(len(calls)))}, sep='\\n')"]
    if example is not None:
        pins = "".join(f", {k}={v!r}" for k, v in (fixed or {}).items()) + (f", tries={tries}" if tries > 1 else "") \
            + (f", profile={profile!r}" if profile != "default" else "")
        tail.append("# the property itself, on exactly this example (the values it was drawn as)"
                    + (f"; run up to {tries} times, for answers that vary from run to run:" if tries > 1 else ":"))
        tail.append(f"convspec.recheck(b, {prop_name!r}, {example}{pins})")
    if saved:
        digest = hashlib.sha1(b"".join(a.tobytes() for a in saved.values())).hexdigest()[:12]
        folder = save_dir or counterexamples_dir()
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, re.sub(r"[^\w.-]", "_", f"{prop_name}-{digest}.npz"))
        np.savez(path, **saved)
        head.append(f"data = np.load({path!r})")
    if any("ml_dtypes." in text for text in lines):
        head.insert(head.index("import numpy as np") + 1, "import ml_dtypes")
    return "\n".join(head + lines + body + tail) + "\n"

