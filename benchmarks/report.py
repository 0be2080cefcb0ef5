"""Turn pytest-benchmark JSON into reports/performance.md, PNG plots and the raw JSON.

    python benchmarks/report.py BENCH.json [--threads BENCH_ALL_THREADS.json] [--out reports]

Sections: the environment (CPU, versions, thread settings, the BLAS kernel); the acceptance
comparison (auto against PyTorch on ResNet-50, against the fastest SciPy/NumPy method on
single-channel signals, the separable Gaussian against ``fftconvolve``); per problem: median
times, ratio to the fastest and GFLOP/s against the GEMM rate of the same run; a roofline-style
plot of the layers; crossover plots (time against kernel size); measured complexity exponents
against theory; Numba compile times; and the same comparisons at all threads when given.
"""

import argparse
import json
import math
import os
import re
import shutil
from collections import defaultdict

import numpy as np

from problems import ACCEPTANCE_1D, ACCEPTANCE_2D, RESNET50

PEERS = ("scipy.direct", "scipy.fft", "scipy.oaconvolve", "scipy.ndimage", "numpy.convolve")


def method_of(bench):
    params = bench.get("params") or {}
    for key in ("method", "target", "kernel"):
        if key in params:
            return params[key]
    return bench["name"].split("[")[0].replace("test_conv_", "").replace("test_", "")


def load_groups(path):
    with open(path) as f:
        data = json.load(f)
    groups = defaultdict(dict)
    for b in data["benchmarks"]:
        group = b["group"] or ("numba compile" if "numba_compile" in b["name"] else b["name"])
        groups[group][method_of(b)] = {**b["stats"], "extra_info": b.get("extra_info", {})}
    return data, groups


def gemm_peak(groups):
    gemm = groups.get("GEMM", {})
    if not gemm:
        return None, {}
    row = next(iter(gemm.values()))
    return row["extra_info"]["flops"] / row["median"] / 1e9, row["extra_info"].get("environment", {})


def _ms(seconds):
    return f"{seconds * 1e3:.3f}"


def _problem_groups(groups):
    """The groups of one problem each (not the GEMM rate, compile times or repeated rounds)."""
    return {g: rows for g, rows in groups.items() if g not in ("GEMM", "numba compile") and " round " not in g}


def _rounds(groups, group):
    """``{method: [median of each round]}`` for a group and its repeated rounds (``"<group> round <r>"``)."""
    found = defaultdict(list)
    for g, rows in groups.items():
        if g == group or g.startswith(f"{group} round "):
            for name, r in rows.items():
                found[name].append(r["median"])
    return found


def tables(groups, peak):
    lines = []
    for group, rows in _problem_groups(groups).items():
        fastest = min(r["median"] for r in rows.values())
        flops = next(iter(rows.values()))["extra_info"].get("flops")
        head = "| method | median (ms) | IQR (ms) | x fastest |" + (" GFLOP/s | % of GEMM |" if flops else "")
        lines += [f"### {group}", "", head, "|---" * (head.count("|") - 1) + "|"]
        for name, r in sorted(rows.items(), key=lambda item: item[1]["median"]):
            cells = [name, _ms(r["median"]), _ms(r["iqr"]), f"{r['median'] / fastest:.2f}"]
            if flops:
                rate = flops / r["median"] / 1e9
                cells += [f"{rate:.1f}", f"{100 * rate / peak:.0f}" if peak else "-"]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def acceptance(groups):
    """auto's speed ratio (peer time / auto time, > 1 means auto is faster) on the acceptance cells."""
    lines = ["## Acceptance comparison (1 thread, float32; ratio = peer time / auto time)", ""]
    layers = [(g, _rounds(groups, f"mb1{g}")) for g in RESNET50]
    layers = [(g, {name: float(np.median(times)) for name, times in rounds.items()}, len(rounds["auto"]))
              for g, rounds in layers if rounds.get("auto") and rounds.get("torch")]
    if layers:
        ratios = {g: times["torch"] / times["auto"] for g, times, _ in layers}
        three = {g: r for g, r in ratios.items() if "kh3" in g}
        lines += ["### ResNet-50 layers at batch 1: auto against PyTorch conv2d", "",
                  "Each time is the median over the rounds (blocks run minutes apart) of each block's median.", "",
                  "| layer | torch (ms) | auto (ms) | ratio | rounds |", "|---|---|---|---|---|"]
        lines += [f"| {g} | {_ms(times['torch'])} | {_ms(times['auto'])} | {ratios[g]:.2f} | {n} |"
                  for g, times, n in layers]
        lines += ["", f"- geometric mean of the ratios: **{_geomean(list(ratios.values())):.2f}** (target >= 1.0)",
                  f"- smallest ratio on a 3x3 layer: **{min(three.values()):.2f}** (target >= 0.8)" if three else "", ""]
    cells = [(f"2-D {s}x{s} k={k}", f"2-D {s}^2, k={k}") for s, k in ACCEPTANCE_2D]
    cells += [(f"1-D n={n} k={k}", f"1-D n={n}, k={k}") for n, k in ACCEPTANCE_1D]
    rows = []
    for group, label in cells:
        found = groups.get(group, {})
        peers = {p: r["median"] for p, r in found.items() if p in PEERS}
        if "auto" in found and peers:
            best = min(peers, key=peers.get)
            rows.append(f"| {label} | {best} | {_ms(peers[best])} | {_ms(found['auto']['median'])} | "
                        f"{peers[best] / found['auto']['median']:.2f} |")
    if rows:
        lines += ["### Single-channel `same` convolution: auto against the fastest SciPy/NumPy method (target >= 0.9)", "",
                  "| problem | fastest peer | peer (ms) | auto (ms) | ratio |", "|---|---|---|---|---|"] + rows + [""]
    gauss = groups.get("separable 2048x2048 gaussian k=31", {})
    if "auto" in gauss and "scipy.fft" in gauss:
        ratio = gauss["scipy.fft"]["median"] / gauss["auto"]["median"]
        lines += [f"### 31x31 Gaussian on 2048^2: fftconvolve {_ms(gauss['scipy.fft']['median'])} ms, auto "
                  f"{_ms(gauss['auto']['median'])} ms: **{ratio:.2f}x** faster (target >= 2)", ""]
    if len(lines) == 2:
        lines += ["(not in this run: pass `--resnet --full` to bash scripts/bench.sh)", ""]
    return lines


#: Methods that do fewer multiplications than the direct sum: their GFLOP/s counts the direct
#: method's flops (an effective rate), so they may sit above the GEMM line.
TRANSFORMS = {"winograd", "fft", "scipy.fft", "scipy.oaconvolve", "auto"}
#: One colour and marker per method across every plot (set by :func:`assign_styles`).
STYLES = {}


def assign_styles(groups):
    """Give every method of the run its colour and marker, once, in name order."""
    import matplotlib

    palette = matplotlib.colormaps["tab20"].colors
    markers = "osD^vP*Xhp<>"
    names = sorted({name for rows in groups.values() for name in rows})
    for i, name in enumerate(names):
        STYLES[name] = {"color": palette[(2 * i) % 20 if i < 10 else (2 * i + 1) % 20], "marker": markers[i % len(markers)]}


def _readable_ticks(ticks, min_gap=0.09):
    """A subset of the measured sizes whose labels do not collide on a log axis: each kept
    tick at least ``min_gap`` of the axis' log-range from the previous one (the last kept)."""
    ticks = sorted(ticks)
    if len(ticks) < 3:
        return ticks
    span = math.log(ticks[-1] / ticks[0]) or 1.0
    kept = [ticks[0]]
    for t in ticks[1:]:
        if math.log(t / kept[-1]) / span >= min_gap:
            kept.append(t)
    if kept[-1] != ticks[-1]:
        kept[-1] = ticks[-1]
    return kept


def _plot(out, name, title, xlabel, ylabel, series, loglog=True, lines=(), notes=(), styles=None):
    """One plot: a line per method in its fixed style, the legend outside the axes, only
    non-colliding tick labels; a series that ends before the others says where."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    fig, ax = plt.subplots(figsize=(7.5, 4))
    longest = max((max(xs) for xs, _ in series.values() if xs), default=None)
    for label, (xs, ys) in sorted(series.items()):
        style = (styles or STYLES).get(label, {})
        text = label + (f" (measured to {max(xs)} only)" if longest is not None and xs and max(xs) < longest else "")
        (ax.loglog if loglog else ax.plot)(xs, ys, label=text, **style)
    if loglog:  # label the sizes measured, not the decades between them
        ax.set_xticks(_readable_ticks({x for xs, _ in series.values() for x in xs}))
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
    for draw in lines:
        draw(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    for i, note in enumerate(notes):
        fig.text(0.01, -0.02 - 0.04 * i, note, fontsize=7, ha="left", va="top")
    fig.savefig(os.path.join(out, name), dpi=100, bbox_inches="tight")
    plt.close(fig)
    WRITTEN.add(name)
    return [f"![{title}]({name})", ""]


#: The plots written by this run (the others in the folder are stale and removed).
WRITTEN = set()


#: (family, pattern of group names with (fixed, varied) fields)
FAMILIES = {
    "2-D": r"2-D (\d+)x\d+ k=(\d+)",
    "3-D": r"3-D (\d+)\^3 k=(\d+)",
    "1-D": r"1-D n=(\d+) k=(\d+)",
    "separable": r"separable (\d+)x\d+ gaussian k=(\d+)",
}


def series_by_kernel(groups, pattern):
    """``{fixed size: {method: [(k, median)]}}`` for the groups matching ``pattern``."""
    found = defaultdict(lambda: defaultdict(list))
    for group, rows in groups.items():
        m = re.fullmatch(pattern, group)
        if m:
            for name, r in rows.items():
                found[int(m.group(1))][name].append((int(m.group(2)), r["median"]))
    return found


def exponent(points):
    """The slope of log time against log size (time ~ size^e), from at least three sizes."""
    if len(points) < 3:
        return None
    xs, ts = zip(*sorted(points))
    return float(np.polyfit(np.log(xs), np.log(ts), 1)[0])


#: Theory for the exponent in the kernel size k, per family and kind of method.
THEORY = {
    "2-D": ("k x k kernel: direct ~ k^2, FFT ~ k^0 (its cost is set by the image)", 2),
    "3-D": ("k^3 kernel: direct ~ k^3, FFT ~ k^0", 3),
    "1-D": ("direct ~ k (O(k n)), overlap-add ~ log k, one FFT ~ k^0", 1),
    "separable": ("omega x omega Gaussian: two 1-D passes ~ omega (O(omega d)), direct 2-D ~ omega^2 (O(omega^d))", 2),
}
DIRECT = {"numba", "naive", "scipy.direct", "scipy.ndimage", "numpy.convolve"}


def crossovers(groups, out):
    lines, table = [], []
    for family, pattern in FAMILIES.items():
        found = series_by_kernel(groups, pattern)
        for size, methods in sorted(found.items()):
            series = {}
            for name, points in methods.items():
                points.sort()
                series[name] = ([k for k, _ in points], [t * 1e3 for _, t in points])
                e = exponent(points) if name != "naive" else None  # plain NumPy loops: overhead-bound
                if e is not None:
                    kind = ("direct" if name in DIRECT else "1-D passes" if "passes" in name
                            else "auto (switches algorithm)" if name == "auto" else "transform")
                    expect = THEORY[family][1] if kind == "direct" else (1 if kind == "1-D passes" else None)
                    table.append(f"| {family} | {size} | {name} | {kind} | {e:.2f} | {expect if expect is not None else '~0-1'} |")
            if any(len(xs) >= 2 for xs, _ in series.values()):
                lines += _plot(out, f"crossover_{family.lower()}_{size}.png",
                               f"{family} same convolution at size {size}: time against kernel size (1 thread, float32)",
                               "kernel size k", "median time (ms)", series)
    exps = []
    if table:
        exps = ["## Measured complexity exponents (time ~ k^e at a fixed signal size)", ""]
        exps += [f"- {family}: {text}" for family, (text, _) in THEORY.items()]
        exps += ["", "| family | size | method | kind | e measured | e theory |", "|---|---|---|---|---|---|"] + table + [""]
    # 1-D: time against n at a fixed k (direct O(n k), FFT O(n log n))
    by_n = defaultdict(lambda: defaultdict(list))
    for group, rows in groups.items():
        m = re.fullmatch(FAMILIES["1-D"], group)
        if m:
            for name, r in rows.items():
                by_n[int(m.group(2))][name].append((int(m.group(1)), r["median"]))
    rows_n = [f"| {k} | {name} | {e:.2f} |" for k, methods in sorted(by_n.items())
              for name, pts in sorted(methods.items()) if (e := exponent(pts)) is not None]
    if rows_n:
        exps += ["### 1-D: time ~ n^e at a fixed kernel (theory: direct 1, FFT about 1 (n log n))", "",
                 "| k | method | e |", "|---|---|---|"] + rows_n + [""]
    return lines, exps


LAYER = re.compile(r"mb(\d+)ic(\d+)ih(\d+)oc(\d+)oh(\d+)kh(\d+)(?:sh\d+)?ph\d+")


def intensity(group):
    """Flops per byte of a layer descriptor at its least traffic: input, weights and output
    each moved once, float32 (the x of a roofline)."""
    mb, ic, ih, oc, oh, kh = map(int, LAYER.fullmatch(group).groups())
    flops = 2.0 * mb * oc * oh * oh * ic * kh * kh
    return flops / (4.0 * (mb * ic * ih * ih + oc * ic * kh * kh + mb * oc * oh * oh))


def bandwidth(groups):
    """GB/s of the run's memory-copy benchmark, if it was measured."""
    rows = groups.get("memory bandwidth", {})
    if not rows:
        return None
    row = next(iter(rows.values()))
    return row["extra_info"]["bytes"] / row["median"] / 1e9


def roofline(groups, peak, out):
    """A roofline of the layers: GFLOP/s against arithmetic intensity, under the run's GEMM
    rate and memory bandwidth."""
    layers = [g for g in groups if LAYER.fullmatch(g)]
    if not layers or not peak:
        return []
    series = defaultdict(lambda: ([], []))
    for g in sorted(layers, key=intensity):
        for name, r in groups[g].items():
            series[name][0].append(intensity(g))
            series[name][1].append(r["extra_info"]["flops"] / r["median"] / 1e9)
    bw = bandwidth(groups)
    xs = [x for xs_, _ in series.values() for x in xs_]

    def ceilings(ax):
        ax.axhline(peak, color="k", linestyle="--", linewidth=1, label=f"float32 GEMM, {peak:.0f} GFLOP/s")
        if bw:
            grid = np.geomspace(min(xs) / 2, max(xs) * 2, 50)
            ax.plot(grid, np.minimum(bw * grid, peak), color="0.4", linestyle=":", linewidth=1,
                    label=f"memory copy, {bw:.1f} GB/s")

    points, styles = {}, {}
    for name, v in series.items():
        label = f"{name} (effective)" if name in TRANSFORMS else name
        points[label] = v
        styles[label] = {**STYLES.get(name, {}), "linestyle": "none"}
        if name in TRANSFORMS:  # hollow: an effective rate
            styles[label].update(markerfacecolor="white", markeredgecolor=STYLES.get(name, {}).get("color"))
    notes = ["Hollow markers, '(effective)': the direct method's flops over the time taken; Winograd and FFT do "
             "fewer multiplications, so they may pass the GEMM line."]
    if not bw:
        notes.append("Memory bandwidth was not measured in this run (benchmarks/test_environment.py::"
                     "test_memory_bandwidth was added after it): no memory line.")
    lines = _plot(out, "roofline_layers.png",
                  "Layers: GFLOP/s against arithmetic intensity (1 thread, float32)",
                  "arithmetic intensity (flop per byte of input + weights + output)", "GFLOP/s", points,
                  loglog=True, lines=[ceilings], notes=notes, styles=styles)
    return ["## Layers: a roofline", "",
            "x: flops per byte moved at least once (float32 input, weights and output); y: GFLOP/s; dashed: the "
            "float32 GEMM rate of this run" + (", dotted: its memory copy rate" if bw else "") + ". "
            "Winograd and FFT points count the direct method's flops (effective rates, hollow markers)."
            + ("" if bw else " " + notes[-1]), ""] + lines


def compile_times(groups):
    rows = groups.get("numba compile", {})
    if not rows:
        return []
    lines = ["## Numba compile time (fresh process, empty cache; not part of any timing above)", "",
             "| kernel | first call (s) | second call (s) | compile (s) |", "|---|---|---|---|"]
    for name, r in rows.items():
        info = r["extra_info"]
        lines.append(f"| {name} | {info['first_call_s']:.3f} | {info['second_call_s']:.4f} | {info['compile_s']:.3f} |")
    return lines + ["", "Compiled code is cached on disk (`cache=True`), so later processes load it instead.", ""]


def environment(env, peak, data):
    cpu = data.get("machine_info", {}).get("cpu", {})
    lines = ["## Environment", "",
             f"- CPU: {cpu.get('brand_raw', 'unknown')} ({env.get('cpus', '?')} logical CPUs), Python {env.get('python', '?')}",
             f"- Versions: {', '.join(f'{k} {v}' for k, v in env.get('versions', {}).items())}",
             f"- Thread and kernel settings: {env.get('environment', {})}",
             f"- GEMM (float32, 1024^3, this run): {peak:.1f} GFLOP/s" if peak else "- GEMM: not measured"]
    for lib in env.get("blas", []):
        if lib.get("internal_api") != "openblas" and not lib.get("architecture"):
            lines.append(f"- threading runtime: {lib.get('internal_api')} ({os.path.basename(lib.get('filepath') or '')})")
            continue
        lines.append(f"- BLAS: {lib.get('internal_api')} {lib.get('version')}, kernel **{lib.get('architecture')}**, "
                     f"{lib.get('num_threads')} thread(s) ({os.path.basename(lib.get('filepath') or '')})")
    return lines + [""]


def threads_view(path):
    """Ratios to the fastest at all threads, for the same problems."""
    data, groups = load_groups(path)
    peak, env = gemm_peak(groups)
    lines = ["## Second view: all threads", "",
             f"GEMM at all threads: {peak:.1f} GFLOP/s; settings {env.get('environment', {})}." if peak else "", ""]
    lines += acceptance(groups)[1:]
    lines += tables(groups, peak)
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("json")
    parser.add_argument("--threads", help="the same benchmarks run at all threads")
    parser.add_argument("--out", default="reports")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    data, groups = load_groups(args.json)
    assign_styles(groups)
    peak, env = gemm_peak(groups)
    plots, exps = crossovers(groups, args.out)
    lines = ["# convspec performance report", "",
             f"Generated by `bash scripts/bench.sh` from `{os.path.basename(args.json)}` ({data.get('datetime', '')}).",
             "Each method is timed in its own block after an untimed warm-up call that checks its result;",
             "times are medians. Performance is measured here, never asserted in tests.", ""]
    lines += environment(env, peak, data)
    lines += acceptance(groups)
    lines += roofline(groups, peak, args.out)
    if plots:
        lines += ["## Crossover: time against kernel size", ""] + plots
    lines += exps
    lines += compile_times(groups)
    lines += ["## All results (1 thread)", ""] + tables(groups, peak)
    if args.threads:
        lines += threads_view(args.threads)
    with open(os.path.join(args.out, "performance.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    for stale in sorted(set(n for n in os.listdir(args.out) if n.endswith(".png")) - WRITTEN):
        os.remove(os.path.join(args.out, stale))
        print(f"removed the stale plot {stale}")
    for path in (args.json, args.threads):
        if path and os.path.dirname(os.path.abspath(path)) != os.path.abspath(args.out):
            shutil.copy(path, args.out)
    print(f"wrote {os.path.join(args.out, 'performance.md')}")


if __name__ == "__main__":
    main()
