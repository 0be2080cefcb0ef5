"""Turn a pytest-benchmark JSON into reports/performance.md, PNG plots and the raw JSON.

    python benchmarks/report.py BENCH.json [--out reports]

Per group: median times, ratio to the fastest, and for layers GFLOP/s against the GEMM rate
measured in the same run; a crossover plot (time against kernel size per method, 2-D);
measured complexity exponents against theory.
"""

import argparse
import json
import os
import re
import shutil
from collections import defaultdict

import numpy as np


def _method(bench):
    params = bench.get("params") or {}
    if "method" in params:
        return params["method"]
    if "target" in params:
        return params["target"]
    return bench["name"].split("[")[0].replace("test_conv_", "").replace("test_", "")


def _tables(groups, peak):
    lines = []
    for group, rows in groups.items():
        if group == "GEMM":
            continue
        fastest = min(r["median"] for r in rows)
        flops = rows[0]["extra_info"].get("flops")
        head = "| method | median (ms) | x fastest |" + (" GFLOP/s | % of GEMM |" if flops else "")
        lines += [f"### {group}", "", head, "|---" * (head.count("|") - 1) + "|"]
        for r in sorted(rows, key=lambda r: r["median"]):
            cells = [_method(r), f"{r['median'] * 1e3:.3f}", f"{r['median'] / fastest:.2f}"]
            if flops:
                rate = flops / r["median"] / 1e9
                cells += [f"{rate:.1f}", f"{100 * rate / peak:.0f}" if peak else "-"]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _crossover(groups, out):
    """Time against kernel size for each method, one line per method, per image side."""
    series = defaultdict(lambda: defaultdict(list))
    for group, rows in groups.items():
        m = re.fullmatch(r"2-D (\d+)x\d+ k=(\d+)", group)
        if m:
            for r in rows:
                series[int(m.group(1))][_method(r)].append((int(m.group(2)), r["median"]))
    if not series:
        return [], {}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines, exponents = [], {}
    for side, methods in sorted(series.items()):
        fig, ax = plt.subplots(figsize=(6, 4))
        for name, points in sorted(methods.items()):
            points.sort()
            ks, ts = zip(*points)
            ax.loglog(ks, np.array(ts) * 1e3, marker="o", label=name)
            if len(ks) >= 2:  # time ~ k^e: direct 2-D expects e = 2 (k^2 taps), FFT about 0
                exponents[(side, name)] = float(np.polyfit(np.log(ks), np.log(ts), 1)[0])
        ax.set_xlabel("kernel size k (k x k)")
        ax.set_ylabel("median time (ms)")
        ax.set_title(f"2-D same convolution, {side}x{side}, float32, 1 thread")
        ax.legend(fontsize=7)
        name = f"crossover_2d_{side}.png"
        fig.savefig(os.path.join(out, name), dpi=100, bbox_inches="tight")
        plt.close(fig)
        lines += [f"![crossover {side}]({name})", ""]
    return lines, exponents


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("json")
    parser.add_argument("--out", default="reports")
    args = parser.parse_args(argv)
    with open(args.json) as f:
        data = json.load(f)
    os.makedirs(args.out, exist_ok=True)
    groups = defaultdict(list)
    for b in data["benchmarks"]:
        groups[b["group"]].append({**b["stats"], "name": b["name"], "params": b.get("params"), "extra_info": b.get("extra_info", {})})
    gemm = groups.get("GEMM", [])
    peak = gemm[0]["extra_info"]["flops"] / gemm[0]["median"] / 1e9 if gemm else None
    info = data.get("machine_info", {})
    lines = [
        "# convspec performance report", "",
        f"Generated from `{os.path.basename(args.json)}` ({data.get('datetime', '')}).", "",
        "## Environment", "",
        f"- CPU: {info.get('cpu', {}).get('brand_raw', 'unknown')}, Python {info.get('python_version', '?')}",
        f"- GEMM (float32, 1024^3, this run): {peak:.1f} GFLOP/s" if peak else "- GEMM: not measured",
    ]
    if gemm:
        lines.append(f"- BLAS: {gemm[0]['extra_info'].get('blas')}")
    lines += ["", "## Results (median of each method's own block, after an untimed warm-up and check)", ""]
    lines += _tables(groups, peak)
    plot_lines, exponents = _crossover(groups, args.out)
    if plot_lines:
        lines += ["## Crossover: time against kernel size", ""] + plot_lines
        lines += ["## Measured complexity exponents (time ~ k^e at fixed image size)", "",
                  "Theory: direct 2-D convolution e = 2 (k^2 taps per output); FFT e ~ 0 (cost set by the image).", "",
                  "| image | method | e |", "|---|---|---|"]
        lines += [f"| {side}x{side} | {name} | {e:.2f} |" for (side, name), e in sorted(exponents.items())]
    with open(os.path.join(args.out, "performance.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    if os.path.abspath(args.json) != os.path.abspath(os.path.join(args.out, "benchmarks.json")):
        shutil.copy(args.json, os.path.join(args.out, "benchmarks.json"))
    print(f"wrote {os.path.join(args.out, 'performance.md')}")


if __name__ == "__main__":
    main()
