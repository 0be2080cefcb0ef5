"""The ``convspec bench`` report: Markdown with one table per suite (times, ratios, GFLOP/s
against the GEMM rate measured in the same run), PNG plots when matplotlib is installed, and
the raw JSON; ``compare`` flags changes against an earlier run beyond the measured spread."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections import defaultdict

import numpy as np

from convspec._bench.engine import blas_summary, geometric_mean
from convspec._bench.problems import parse


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g}"


def markdown(board: dict, compare: dict | None = None) -> str:
    env, targets, peers = board["environment"], board["targets"], board["peers"]
    methods = targets + [p for p in peers if p not in targets]
    lines = ["# convspec bench", "",
             f"convspec {env['convspec']}, NumPy {env['numpy']} (BLAS: {blas_summary(env)}), "
             + ", ".join(f"{k} {env[k]}" for k in ("torch", "scipy") if k in env)
             + f"; {env['threads']} thread(s) of {env['cpus']}"
             + (f" (every thread held to CPU {', '.join(map(str, env['held_to_cpus']))})"
                if env.get("held_to_cpus") else "")
             + (f" ({env['cpu']}: {', '.join(env.get('isa') or []) or 'no extension recorded'})" if env.get("cpu") else "")
             + f"; float32 GEMM now: {env['gemm_gflops']} GFLOP/s. "
             "Every time is a median over blocks run in A-B-B-A order after a first call (shown apart: "
             "compilation, plans); every result was checked against the definition before it was timed.", ""]
    records = board["records"]
    everything = methods
    for suite, lines_of_suite in board["suites"].items():
        # the columns: the targets, and the peers that have this suite's functions
        methods = [m for m in everything if m in targets or any(
            r["method"] == m and r["problem"] in lines_of_suite and not r.get("why", "").startswith("no ")
            for r in records)]
        lines += [f"## {suite}", "",
                  "| problem | GFLOP | " + " | ".join(f"{m} ms" for m in methods) + " | "
                  + " | ".join(f"{p} / {targets[0]}" for p in methods[1:]) + f" | best peer / {targets[0]} | "
                  f"{targets[0]} GFLOP/s |",
                  "|---" * (4 + 2 * len(methods) - 1) + "|"]
        ratios = {p: [] for p in methods[1:]}
        best_ratios = []
        for line in lines_of_suite:
            cells = {r["method"]: r for r in records if r["problem"] == line}
            base = cells.get(targets[0], {})
            row = [f"`{line}`", f"{(next(iter(cells.values()))['flops'] if cells else 0) / 1e9:.3g}"]
            for m in methods:
                r = cells.get(m, {})
                row.append(_ms(r["median"]) if r.get("status") == "timed" else r.get("status", "-"))
            for m in methods[1:]:
                r = cells.get(m, {})
                if r.get("status") == "timed" and base.get("status") == "timed":
                    ratio = r["median"] / base["median"]
                    ratios[m].append(ratio)
                    row.append(f"{ratio:.2f}")
                else:
                    row.append("-")
            best = min(((r["median"], m) for m, r in cells.items() if m in peers and r.get("status") == "timed"),
                       default=None)
            if best and base.get("status") == "timed":
                best_ratios.append(best[0] / base["median"])
                row.append(f"{best_ratios[-1]:.2f} ({best[1]})")
            else:
                row.append("-")
            row.append(f"{base['gflops']:.1f} ({base['gflops'] / env['gemm_gflops']:.0%} of GEMM)"
                       if base.get("status") == "timed" else "-")
            lines.append("| " + " | ".join(row) + " |")
        means = " · ".join(f"{m} / {targets[0]}: {geometric_mean(v):.2f}" for m, v in ratios.items() if v)
        if best_ratios:
            means += f" · best peer / {targets[0]}: {geometric_mean(best_ratios):.2f} (least {min(best_ratios):.2f})"
        lines += ["", f"Geometric means (above 1: {targets[0]} faster): {means or 'none'}.", ""]
    notes = [r for r in records if r["status"] in ("wrong", "error") or r["status"] == "skipped" and (
        r["method"] in targets or not (r["why"].startswith("no ") or r["why"].endswith(" not declared")))]
    # a peer without the function or the dimension: no note
    if notes:
        lines += ["## Not timed", ""]
        lines += [f"- `{r['problem']}` / {r['method']}: {r['status']}: {r['why']}" for r in notes]
        lines.append("")
    chose = [r for r in records if r.get("chose")]
    if chose:
        lines += ["## Choices made by timing (a dispatcher's plans)", ""]
        lines += [f"- `{r['problem']}` / {r['method']}: {r['chose']}" for r in chose]
        lines.append("")
    first = [r for r in records if r["status"] == "timed" and r["first_call"] > 3 * r["median"] + 1e-3]
    if first:
        lines += ["## First calls (compilation, plans, first touch)", ""]
        lines += [f"- `{r['problem']}` / {r['method']}: first call {_ms(r['first_call'])} ms, then {_ms(r['median'])} ms"
                  for r in first]
        lines.append("")
    lines += exponents(board)
    if compare is not None:
        lines += ["## Against the earlier run", ""] + changes(board, compare) + [""]
    judges = sorted({r["judge"] for r in records})
    lines += [f"Checked against: {', '.join(judges)}."]
    return "\n".join(lines) + "\n"


def ratios(board: dict, baseline: str, peers, *, suite: str | None = None, pattern: str | None = None) -> list:
    """``[(problem, ratio)]``: for each problem of ``suite`` (all suites when ``None``) whose line
    matches the regular expression ``pattern``, the time of the fastest of ``peers`` over the
    time of ``baseline`` (above 1: ``baseline`` faster), where both were timed."""
    lines = board["suites"][suite] if suite is not None else [p for ps in board["suites"].values() for p in ps]
    timed = {(r["problem"], r["method"]): r["median"] for r in board["records"] if r.get("status") == "timed"}
    out = []
    for line in lines:
        best = [timed[(line, p)] for p in peers if (line, p) in timed]
        if (line, baseline) in timed and best and (pattern is None or re.search(pattern, line)):
            out.append((line, min(best) / timed[(line, baseline)]))
    return out


def kernel_series(board: dict) -> dict:
    """``{(op, descriptor with its kernel sizes as *, d): {method: [(k, median seconds)]}}`` for
    the problems of the run that differ only in their kernel (``d``-D, first side ``k``): the
    crossover curves."""
    found = defaultdict(lambda: defaultdict(list))
    for r in board["records"]:
        if r.get("status") != "timed":
            continue
        problem = parse(r["problem"])
        if problem.op in ("correlate", "convolve"):
            kernel, rest = problem.shapes[1], re.sub(r"k[\dx]+", "k*", problem.descriptor)
        else:
            kernel = problem.kwargs.get("window") or problem.kwargs.get("weight_shape", problem.shapes[-1])[2:]
            rest = re.sub(r"k[dhw]\d+", "k*", problem.descriptor)
        if kernel:
            found[(problem.op, rest, len(kernel))][r["method"]].append((int(kernel[0]), r["median"]))
    return {key: dict(methods) for key, methods in found.items()
            if any(len({k for k, _ in pts}) >= 2 for pts in methods.values())}


def exponent(points) -> float | None:
    """The least-squares slope of log time against log k (time ~ k^e), from three sizes or more."""
    if len({k for k, _ in points}) < 3:
        return None
    ks, ts = zip(*sorted(points))
    return float(np.polyfit(np.log(ks), np.log(ts), 1)[0])


def exponents(board: dict) -> list[str]:
    """The measured exponent of each method in the kernel size, against theory: a direct
    method does ``k^d`` multiply-adds per output for a ``d``-D kernel of side ``k``; a
    transform's cost is set by the signal (``e`` about 0) until the kernel is a large part of it."""
    rows = []
    kinds = board.get("accuracy", {})
    for (op, rest, nd), methods in sorted(kernel_series(board).items()):
        for method, points in sorted(methods.items()):
            e = exponent(points)
            if e is not None:
                theory = f"{nd} (direct)" if kinds.get(method) == "direct" else f"0 (transform) to {nd} (direct)"
                rows.append(f"| `{op} {rest}` | {method} | {round(e, 2) + 0.0:.2f} | {theory} |")  # no -0.00
    if not rows:
        return []
    return ["## Complexity in the kernel size (time ~ k^e)", "",
            "A direct method does k^d multiply-adds per output for a d-D kernel of side k; an FFT's cost is "
            "set by the signal, so e is near 0 until the kernel is a large part of it; a method that switches "
            "algorithm (auto) lies between.", "",
            "| problems | method | e measured | e theory |", "|---|---|---|---|"] + rows + [""]


def changes(board: dict, old: dict) -> list[str]:
    """Lines for the (problem, method) pairs whose median moved beyond both runs' spread."""
    before = {(r["problem"], r["method"]): r for r in old.get("records", []) if r.get("status") == "timed"}
    out = []
    for r in board["records"]:
        o = before.get((r["problem"], r["method"]))
        if r.get("status") != "timed" or o is None:
            continue
        ratio = r["median"] / o["median"]
        spread = max(r["q3"] / r["q1"], o["q3"] / o["q1"])
        if ratio > spread * 1.05:
            out.append(f"- REGRESSION `{r['problem']}` / {r['method']}: {_ms(o['median'])} -> {_ms(r['median'])} ms "
                       f"({ratio:.2f}x; spread {spread:.2f})")
        elif 1 / ratio > spread * 1.05:
            out.append(f"- faster `{r['problem']}` / {r['method']}: {_ms(o['median'])} -> {_ms(r['median'])} ms")
    return out or ["No change beyond the measured spread."]


#: What a run without matplotlib says instead of writing plots.
NO_PLOTS = "no plots written: matplotlib is not installed (pip install 'convspec[report]' adds it)"


def plots_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plots(board: dict, folder: str) -> list[str]:
    """One PNG per suite (log time per problem and method); none without matplotlib."""
    if not plots_available():
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    written = []
    methods = board["targets"] + [p for p in board["peers"] if p not in board["targets"]]
    for suite, problems in board["suites"].items():
        fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(problems) * len(methods) / 2), 4))
        width = 0.8 / max(len(methods), 1)
        for i, m in enumerate(methods):
            xs, ys = [], []
            for j, line in enumerate(problems):
                r = next((r for r in board["records"] if r["problem"] == line and r["method"] == m), None)
                if r and r["status"] == "timed":
                    xs.append(j + i * width)
                    ys.append(r["median"] * 1e3)
            ax.bar(xs, ys, width, label=m)
        ax.set_yscale("log")
        ax.set_ylabel("ms (median)")
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(problems))])
        ax.set_xticklabels([p.split(" ", 1)[1][:22] for p in problems], rotation=60, ha="right", fontsize=7)
        ax.set_title(f"{suite}: time per problem")
        ax.legend(fontsize=7)
        fig.tight_layout()
        name = f"bench_{suite}.png"
        fig.savefig(os.path.join(folder, name), dpi=110)
        plt.close(fig)
        written.append(name)
    for (op, rest, _), series in sorted(kernel_series(board).items()):  # crossover: time against kernel size
        fig, ax = plt.subplots(figsize=(6, 4))
        for method, points in sorted(series.items()):
            ks, ts = zip(*sorted(points))
            ax.plot(ks, [t * 1e3 for t in ts], marker="o", label=method)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("kernel size k")
        ax.set_ylabel("ms (median)")
        ax.set_title(f"{op} {rest}: time against kernel size", fontsize=9)
        ax.legend(fontsize=7)
        fig.tight_layout()
        name = "crossover_" + re.sub(r"[^a-z0-9]+", "_", f"{op}_{rest}".lower()).strip("_") + ".png"
        fig.savefig(os.path.join(folder, name), dpi=110)
        plt.close(fig)
        written.append(name)
    return written


def write(out: str, board: dict, compare: dict | None = None) -> list[str]:
    """Write bench.md, bench.json and the plots into ``out`` all at once: they are made in a
    temporary folder beside it and moved in only when every one is complete."""
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".bench-", dir=out)
    try:
        names = plots(board, work)
        with open(os.path.join(work, "bench.json"), "w") as f:
            json.dump(board, f, indent=1)
        with open(os.path.join(work, "bench.md"), "w") as f:
            f.write(markdown(board, compare))
        names += ["bench.json", "bench.md"]
        for name in names:
            os.replace(os.path.join(work, name), os.path.join(out, name))
        return [os.path.join(out, n) for n in names]
    finally:
        shutil.rmtree(work, ignore_errors=True)
