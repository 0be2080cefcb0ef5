"""The conformance report: ``convspec report`` writes ``reports/conformance.md`` and ``.json``.

Three runs of the same catalogue: the bundled backends (property x backend matrix), the
trusted implementations (false alarms: must be none), and the mutants (which property
caught which bug: every mutant must be caught).  Plus the measured error of each backend
as a fraction of its accuracy bound.
"""

from __future__ import annotations

import fnmatch
import functools
import glob
import importlib.util
import json
import os
import platform
import sys
import time
from dataclasses import dataclass

import numpy as np

from convspec import __version__
from convspec._contract import accuracy, reference
from convspec._contract.restrictions import excluded
from convspec._engine import machine
from convspec._engine.backend import bundled_names
from convspec._contract.functions import INTEGER_DTYPES
from convspec._catalogue.property import known_dtype
from convspec._catalogue import CATALOGUE
from convspec._frontends.console import CELL, progress_printer, root_of, summary
from convspec._engine.remote import RemoteBackend
from convspec._engine.judges import check, default_jobs, labels_for


def _files(folder, pattern):
    files = sorted(glob.glob(os.path.join(folder, pattern))) if folder and os.path.isdir(folder) else []
    return [f for f in files if not os.path.basename(f).startswith("torch") or importlib.util.find_spec("torch")]


@dataclass(frozen=True)
class KnownDeviation:
    """One line of a known-deviations file: ``backend :: property    why`` (the property may be
    a glob).  ``[confirmed now: ADAPTER]`` before the reason makes it conditional: it explains a
    failure only when the same library's deviation, as the scoreboard lists it for ADAPTER, is
    confirmed by arithmetic on this machine at report time (a bug of one CPU's kernels, say)."""
    backend: str
    property: str
    why: str
    adapter: str = ""

    def matches(self, backend: str, prop: str) -> bool:
        return backend == self.backend and fnmatch.fnmatchcase(prop, self.property)

    def confirmation(self, prop: str, message: str) -> tuple[bool, str]:
        """(explained here, evidence).  An unconditional entry is confirmed by the arithmetic in
        tests/test_verifier.py; a conditional one by its adapter's deviation, run now."""
        if not self.adapter:
            return True, ""
        from convspec._adapters.deviations import explain

        d = explain(self.adapter, prop, message)
        if d is None:
            return False, f"no deviation of the {self.adapter} adapter explains this failure"
        return _confirm(d)


@functools.lru_cache(maxsize=None)
def _confirm(deviation) -> tuple[bool, str]:
    try:
        return deviation.confirm()
    except Exception as e:  # the library is missing or broken: nothing is confirmed
        return False, f"the confirmation raised {type(e).__name__}: {e}"


def known_deviations(path) -> list[KnownDeviation]:
    """The entries of a known-deviations file (``#`` starts a comment); none if it is missing."""
    if not os.path.isfile(path):
        return []
    out = []
    with open(path) as f:
        for line in f:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            key, _, why = line.rstrip().partition("  ")
            backend, _, prop = key.partition("::")
            why, adapter = why.strip(), ""
            if why.startswith("[confirmed now:"):
                adapter, _, why = why[len("[confirmed now:"):].partition("]")
            out.append(KnownDeviation(backend.strip(), prop.strip(), why.strip(), adapter.strip()))
    return out


def triage(failures, known: list[KnownDeviation]) -> tuple[list, list]:
    """Failures of trusted implementations split into false alarms and real deviations, each
    deviation as ``(result, why)`` with the evidence of a confirmation run now."""
    false_alarms, deviations = [], []
    for r in failures:
        entry = next((k for k in known if k.matches(r.backend, r.property)), None)
        confirmed, evidence = entry.confirmation(r.property, r.message) if entry else (False, "")
        if confirmed:
            deviations.append((r, entry.why + (f" Confirmed now: {evidence}" if evidence else "")))
        else:
            false_alarms.append(r)
    return false_alarms, deviations


def _first_line(doc: str) -> str:
    return doc.strip().splitlines()[0] if doc and doc.strip() else ""


def _accuracy_call(op, ndim, dtype, rng):
    """Arguments of one real-valued call of ``op`` for :func:`accuracy_fractions` (None: not measured)."""
    def make(shape):  # normal values (both parts for complex dtypes)
        return accuracy.real_array(rng, tuple(int(v) for v in shape), dtype)

    x = make((2, 6) + tuple(rng.integers(8, 20, size=ndim)))
    w = make((4, 3) + tuple(rng.integers(1, 4, size=ndim)))
    kw = dict(stride=(1,) * ndim, padding=((1, 1),) * ndim, dilation=(1,) * ndim, groups=2)
    if op in ("correlate", "convolve"):
        return (make(rng.integers(8, 40 if ndim == 1 else 16, size=ndim)), make(rng.integers(1, 6, size=ndim))), \
            {"mode": "full"}
    if op == "conv":
        return (x, w), kw
    gy = make(reference.conv(x, w, **kw).shape)
    if op == "conv_grad_input":
        return (gy, w), {"input_shape": x.shape, **kw}
    if op == "conv_grad_weight":
        return (gy, x), {"weight_shape": w.shape, **kw}
    pool = dict(window=(3,) * ndim, stride=(2,) * ndim, padding=((1, 1),) * ndim, ceil_mode=False)
    if op == "avg_pool":
        return (x,), pool
    if op == "lp_pool":
        return (x,), {"p": 2, **pool}
    if op == "adaptive_avg_pool":
        return (x,), {"output_size": (3,) * ndim}
    return None


def accuracy_fractions(target, *, samples=12, seed=0) -> dict:
    """Largest measured error / bound per (op, dtype), on real-valued data of several sizes.

    Covers the functions whose results are rounded (max pooling is exact, unshared layers are
    checked exactly by their definitions).  The target runs in its own executor process."""
    with RemoteBackend(target) as backend:
        return _fractions(backend, samples, seed)


def _fractions(backend, samples, seed) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for op in backend.ops:
        for dtype in backend.capabilities.dtypes_for(op):
            if dtype in INTEGER_DTYPES or not known_dtype(dtype):
                continue  # integer results are exact (checked by their definitions); bfloat16 needs ml_dtypes
            worst = None
            for _ in range(samples):
                call = _accuracy_call(op, int(rng.choice(backend.capabilities.ndims_for(op))), dtype, rng)
                if call is None:
                    break
                args, kw = call
                if excluded(backend.capabilities.restrictions_for(op), op, args, kw):
                    continue  # a declared restriction: not the backend's to compute
                exact = getattr(reference, op)(*args, acc=np.longdouble, **kw)
                bound = accuracy.error_bound(backend.capabilities.accuracy_for(op, args, kw), op, args, kw, dtype,
                                             backend.capabilities.arithmetic_for(op))
                y = np.asarray(getattr(backend, op)(*args, **kw))
                err = np.abs(y.astype(np.clongdouble if np.iscomplexobj(y) else np.longdouble) - exact)
                worst = max(worst or 0.0, float(np.max(err / np.maximum(bound, np.finfo(np.float64).tiny))))
            if worst is not None:
                out[f"{op}/{dtype}"] = worst
    return out


def shift_statistic(*, trials=200, length=64, window=3, seed=0) -> dict:
    """Fraction of values unchanged by a one-step shift: detector stage vs max-pooled (figure 9.8),
    computed with the reference max pool."""
    rng = np.random.default_rng(seed)
    detectors = pooled = 0.0
    for _ in range(trials):
        x = rng.standard_normal((1, 1, length + 1))
        a, b = x[..., :-1], x[..., 1:]
        kw = dict(window=(window,), stride=(1,), padding=((0, 0),), ceil_mode=False)
        detectors += np.mean(a == b)
        pooled += np.mean(reference.max_pool(np.ascontiguousarray(a), **kw) == reference.max_pool(np.ascontiguousarray(b), **kw))
    return {"detector_unchanged": float(detectors / trials), "pooled_unchanged": float(pooled / trials), "window": window}


def _matrix(results, columns, rows):
    cell = {(r.property, r.backend): CELL[r.status] for r in results}
    lines = ["| property | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for p in rows:
        lines.append(f"| `{p}` | " + " | ".join(cell.get((p, c), "") for c in columns) + " |")
    return lines


def write_conformance(out="reports", *, profile="default", mutants="tests/mutants", trusted="tests/trusted", seed=0) -> int:
    """Run everything, write the report; exit 0 only if bundled and trusted pass and every mutant is caught."""
    os.makedirs(out, exist_ok=True)
    started = time.time()
    props = list(CATALOGUE)
    bundled = list(bundled_names())
    trusted_files = _files(trusted, "*.py")
    mutant_files = _files(mutants, "m*.py") if mutants not in (None, "none") else []
    groups = [("bundled", bundled), ("trusted", trusted_files), ("mutants", mutant_files)]
    results, infos, load_errors = {}, {}, {}
    for label, targets in groups:
        if not targets:
            results[label] = []
            continue
        print(f"checking {len(targets)} {label} backends ...", file=sys.stderr)
        run = check(targets, props, profile=profile, seed=seed, jobs=default_jobs(len(targets)),
                    progress=progress_printer(len(targets) * len(props)))
        results[label] = run.results
        for target, name in zip(targets, labels_for(targets)):
            infos[target] = next((b for b in run.backends if b.label == name), None)
        load_errors.update(run.load_errors)
        if sys.stderr.isatty():
            sys.stderr.write("\n")

    bad_bundled = [r for r in results["bundled"] if r.status in ("failed", "error")]
    known = known_deviations(os.path.join(trusted, "known_deviations.txt")) if trusted else []
    false_alarms, deviations = triage([r for r in results["trusted"] if r.status in ("failed", "error")], known)
    caught = {}
    for r in results["mutants"]:
        caught.setdefault(r.backend, [])
        if r.status in ("failed", "error"):
            caught[r.backend].append(r.property)
    missed = [m for m in labels_for(mutant_files) if not caught.get(m)]
    if load_errors:
        for name, message in load_errors.items():
            print(f"convspec: {name} did not load: {message}", file=sys.stderr)
    fractions = {name: accuracy_fractions(t) for name, t in zip(labels_for(bundled + trusted_files), bundled + trusted_files)}

    lines = [
        "# convspec conformance report",
        "",
        f"Generated by `convspec report --profile {profile} --seed {seed}"
        + ("" if mutant_files else " --mutants none") + f"` (convspec {__version__}, Python "
        f"{platform.python_version()}, NumPy {np.__version__}) in {time.time() - started:.0f} s, on {machine.describe()}.",
        "",
        "## Summary",
        "",
        f"- Bundled backends ({', '.join(bundled)}): {summary(results['bundled'])}.",
        f"- Trusted implementations ({len(trusted_files)}): {summary(results['trusted'])}; "
        f"**{len(false_alarms)} false alarms**.",
        (f"- Mutants: **{len(mutant_files) - len(missed)} of {len(mutant_files)} caught**"
         + (f" (missed: {', '.join(missed)})" if missed else "") + ".") if mutant_files
        else "- Mutants: not run in this report (`bash scripts/report.sh` runs them all).",
        "",
        "## Bundled backends: property x backend",
        "",
        *_matrix(results["bundled"], labels_for(bundled), [p.name for p in props]),
        "",
        "## Trusted implementations (no false alarms allowed)",
        "",
        *_matrix(results["trusted"], labels_for(trusted_files), [p.name for p in props]),
        "",
    ]
    for r in bad_bundled + false_alarms:
        lines += [f"- **{r.backend} / {r.property}** ({r.status}): {r.message}"]
    if deviations:
        lines += ["", "Real deviations of the trusted libraries (listed in `known_deviations.txt`, each confirmed by "
                  "independent arithmetic: in `tests/test_verifier.py`, or now, on this machine, where the entry "
                  "depends on it), not false alarms:", ""]
        lines += [f"- **{r.backend} / {r.property}**: {why} convspec: {r.message.splitlines()[0]}"
                  for r, why in deviations]
        lines += [""]
    lines += [
        "## Accuracy: largest measured error as a fraction of the bound",
        "",
        "Real-valued data; the bound is the backend's class (direct: elementwise gamma_n (|x| * |w|); "
        "fft and undeclared: normwise).  Below 1 means within the bound.",
        "",
        "| backend | class | " + " | ".join(["op/dtype", "error / bound"]) + " |",
        "|---|---|---|---|",
    ]
    for name, target in zip(labels_for(bundled + trusted_files), bundled + trusted_files):
        cls = infos[target].capabilities.get("accuracy", "undeclared") if infos.get(target) else "?"
        for key, frac in fractions[name].items():
            lines.append(f"| {name} | {cls} | {key} | {frac:.3g} |")
    shift = shift_statistic()
    lines += [
        "",
        "## Approximate invariance of max pooling",
        "",
        f"One-step shift of random signals (length 64, max pooling of width {shift['window']}, stride 1, naive backend): "
        f"{shift['detector_unchanged']:.1%} of detector values unchanged, {shift['pooled_unchanged']:.1%} of pooled values "
        "unchanged (figure 9.8's example is reproduced exactly in `tests/test_book_examples.py`).",
        "",
        "## Mutants: which property caught which bug",
        "",
        "One row per mutant: its bug (the first line of its docstring), how many properties caught it, "
        "and which; those whose failing call already disagrees with the definition of a function "
        "are counted under it (the command line's root-cause groups).",
        "",
        "| mutant | bug | caught by | through the definition of | properties |",
        "|---|---|---|---|---|",
    ]
    for name, path in zip(labels_for(mutant_files), mutant_files):
        mine = [r for r in results["mutants"] if r.backend == name and r.status in ("failed", "error")]
        doc = _first_line(infos[path].doc) if infos.get(path) else f"(did not load: {load_errors.get(name, '?')})"
        roots = sorted({root_of(r) for r in mine if root_of(r)})
        through = ", ".join(f"`{op}` ({sum(root_of(r) == op for r in mine)})" for op in roots) or "-"
        lines.append(f"| `{name}` | {doc} | {len(mine)} | {through} | {', '.join(r.property for r in mine)} |")
    with open(os.path.join(out, "conformance.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "conformance.json"), "w") as f:
        json.dump({label: [r.to_json() for r in rs] for label, rs in results.items()} | {"accuracy": fractions},
                  f, indent=1)
    print(f"wrote {os.path.join(out, 'conformance.md')}: {len(bad_bundled)} bundled failures, "
          f"{len(false_alarms)} false alarms, {len(mutant_files) - len(missed)}/{len(mutant_files)} mutants caught")
    return 1 if bad_bundled or false_alarms or missed or load_errors else 0
