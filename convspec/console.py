"""What the command line prints: the property x backend table, the summary line, the
failure details and the progress line.  Shared by ``convspec check`` and ``convspec report``."""

from __future__ import annotations

import sys

CELL = {"passed": "pass", "failed": "FAIL", "skipped": "skip", "error": "ERROR"}


def table(results, backends) -> str:
    """Property x backend table, one row per property."""
    rows: dict[str, dict[str, str]] = {}
    for r in results:
        rows.setdefault(r.property, {})[r.backend] = CELL[r.status]
    width = max([len("property")] + [len(p) for p in rows])
    cols = [max(5, len(b)) for b in backends]
    lines = ["  ".join(["property".ljust(width)] + [b.ljust(c) for b, c in zip(backends, cols)])]
    lines.append("  ".join(["-" * width] + ["-" * c for c in cols]))
    for p, cells in rows.items():
        lines.append("  ".join([p.ljust(width)] + [cells.get(b, "").ljust(c) for b, c in zip(backends, cols)]))
    return "\n".join(lines)


def summary(results) -> str:
    counts = {s: sum(r.status == s for r in results) for s in ("passed", "failed", "error", "skipped")}
    return f"{counts['passed']} passed, {counts['failed']} failed, {counts['error']} errors, {counts['skipped']} skipped"


def failures(results) -> str:
    out = []
    for r in results:
        if r.status not in ("failed", "error"):
            continue
        out.append(f"=== {r.backend} :: {r.property} ({r.status})\n{r.message}")
        if r.counterexample:
            if r.counterexample.get("draws"):
                out.append("minimal counterexample:\n" + r.counterexample["draws"])
            if r.counterexample.get("reproduction"):
                out.append("reproduction:\n" + r.counterexample["reproduction"])
    return "\n\n".join(out)


def progress_printer(total):
    done = {"n": 0}
    tty = sys.stderr.isatty()

    def show(result):
        done["n"] += 1
        if tty:
            sys.stderr.write(f"\r[{done['n']}/{total}] {result.backend}: {result.property} {result.status}".ljust(100)[:100])
            sys.stderr.flush()
        elif result.status in ("failed", "error") or done["n"] % 25 == 0 or done["n"] == total:
            sys.stderr.write(f"[{done['n']}/{total}] {result.backend}: {result.property} {result.status}\n")

    return show
