"""What the command line prints: the property x backend table, the skipped properties by
reason, the summary line, the failures grouped by root cause and the progress line.  Shared
by ``convspec check`` and ``convspec report``."""

from __future__ import annotations

import os
import re
import sys
from collections import Counter

CELL = {"passed": "pass", "failed": "FAIL", "skipped": "skip", "error": "ERROR", "xfailed": "xfail"}
COLOUR = {"FAIL": "31", "ERROR": "31;1", "pass": "32", "skip": "2", "xfail": "33"}
BAD = ("failed", "error")


def colours_wanted(stream=None) -> bool:
    """Colours on a terminal, unless ``NO_COLOR`` is set (https://no-color.org)."""
    stream = stream or sys.stdout
    return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def _paint(text, cell, colour):
    code = COLOUR.get(cell.strip())
    return f"\x1b[{code}m{text}\x1b[0m" if colour and code else text


def table(results, backends, *, verbose=False, colour=False) -> str:
    """Property x backend table.  By default only the properties that failed or errored
    somewhere, failures first; ``verbose``: every property."""
    rows: dict[str, dict[str, str]] = {}
    for r in results:
        rows.setdefault(r.property, {})[r.backend] = r.status
    if not verbose:
        rows = {p: cells for p, cells in rows.items() if any(s in BAD for s in cells.values())}
        if not rows:
            return ""
    width = max([len("property")] + [len(p) for p in rows])
    cols = [max(5, len(b)) for b in backends]
    lines = ["  ".join(["property".ljust(width)] + [b.ljust(c) for b, c in zip(backends, cols)])]
    lines.append("  ".join(["-" * width] + ["-" * c for c in cols]))
    for p, cells in rows.items():
        shown = [CELL.get(cells.get(b, ""), "") for b in backends]
        lines.append("  ".join([p.ljust(width)] + [_paint(s.ljust(c), s, colour) for s, c in zip(shown, cols)]))
    return "\n".join(lines)


def statistics(results, *, accuracy_only=False) -> str:
    """Per backend and property that ran: examples, the share declined, shrink steps, seconds,
    and for the accuracy properties the largest error / bound ratio seen (1 is the bound).
    ``accuracy_only``: the ratios alone (``-v``)."""
    ran = [r for r in results if r.status not in ("skipped",)]
    if accuracy_only:
        ran = [r for r in ran if r.worst_ratio is not None]
        if not ran:
            return ""
        width = max(len(f"{r.backend} :: {r.property}") for r in ran)
        lines = ["worst error / bound per accuracy property (1 is the bound; the search climbs toward it):"]
        lines += [f"  {f'{r.backend} :: {r.property}'.ljust(width)}  {r.worst_ratio:.3g}" for r in ran]
        return "\n".join(lines)
    if not ran:
        return ""
    names = [f"{r.backend} :: {r.property}" for r in ran]
    width = max(len(n) for n in names + ["backend :: property"])
    lines = [f"{'backend :: property'.ljust(width)}  examples  declined  shrink  seconds  error/bound",
             f"{'-' * width}  --------  --------  ------  -------  -----------"]
    for name, r in zip(names, ran):
        tried = r.examples + r.shrink_steps
        share = f"{r.declined / tried:.0%}" if tried and r.declined else "-"
        ratio = f"{r.worst_ratio:.3g}" if r.worst_ratio is not None else "-"
        lines.append(f"{name.ljust(width)}  {r.examples:8d}  {share:>8}  {r.shrink_steps:6d}  {r.seconds:7.2f}  {ratio:>11}")
    return "\n".join(lines)


def _reason_key(message: str) -> str:
    """Skip reasons that differ only in which function is missing count as one."""
    return re.sub(r"^backend has no [\w, ]+?( \(|$)", r"backend has no <function>\1", message)


def skipped(results, backends) -> str:
    """The skipped properties of each backend, counted by reason (``-v`` lists them)."""
    out = []
    for b in backends:
        mine = [r for r in results if r.backend == b and r.status == "skipped"]
        if not mine:
            continue
        reasons = Counter(_reason_key(r.message) for r in mine)
        missing = sorted({f for r in mine for f in re.findall(r"^backend has no ([\w, ]+)", r.message)
                          for f in f.split(", ")})
        out.append(f"{b}: {len(mine)} skipped")
        for reason, n in reasons.most_common():
            if "<function>" in reason and missing:
                reason = reason.replace("backend has no <function>", "backend lacks the property's function (one of "
                                        + ", ".join(missing) + ")")
            out.append(f"  {n:4d}  {reason}")
    return "\n".join(out)


def declines(results, *, verbose=False) -> str:
    """Properties that passed on the examples the backend accepted, with the declined share
    (a pass on fewer examples: the reader should see it)."""
    partial = [r for r in results if r.status == "passed" and getattr(r, "declined", 0)]
    if not partial:
        return ""
    out = [f"{len(partial)} propert{'y' if len(partial) == 1 else 'ies'} passed with examples declined "
           "by a declared restriction:"]
    for r in partial if verbose else partial[:5]:
        out.append(f"  {r.backend} :: {r.property}: {r.message}")
    if len(partial) > 5 and not verbose:
        out.append(f"  ... {len(partial) - 5} more (-v)")
    return "\n".join(out)


def summary(results) -> str:
    counts = Counter(r.status for r in results)
    text = f"{counts['passed']} passed, {counts['failed']} failed, {counts['error']} errors, {counts['skipped']} skipped"
    return text + (f", {counts['xfailed']} known failures" if counts["xfailed"] else "")


def root_of(result) -> str | None:
    """The function whose call already disagreed with the definition in this failure."""
    cause = (result.counterexample or {}).get("root_cause")
    return cause["op"] if cause else None


def groups(results) -> list[tuple[str, list]]:
    """Failures and errors grouped by root cause, as ``(title, results)``: every failure whose
    calls already disagree with the definition of ``op`` goes under one group per backend and
    ``op`` (led by ``<op>_definition`` when it failed, else by the shortest reproduction); each
    other failure stands alone."""
    out: dict[tuple, list] = {}
    for r in results:
        if r.status not in BAD:
            continue
        op = root_of(r)
        out.setdefault((r.backend, op) if op else (r.backend, None, r.property), []).append(r)

    def lead(key, members):
        if len(key) == 2:
            first = min(members, key=lambda r: (r.property != f"{key[1]}_definition",
                                                len((r.counterexample or {}).get("reproduction", ""))))
            members = [first] + [r for r in members if r is not first]
        return members

    titled = []
    for key, members in out.items():
        members = lead(key, members)
        if len(key) == 2:
            title = f"{key[0]}: {key[1]} disagrees with the definition ({len(members)} propert{'y' if len(members) == 1 else 'ies'})"
        else:
            title = f"{key[0]} :: {key[2]} ({members[0].status})"
        titled.append((title, members))
    return titled


def _block(r) -> list[str]:
    out = [r.message]
    ce = r.counterexample or {}
    if ce.get("draws"):
        out.append("\nminimal counterexample:\n" + ce["draws"])
    if ce.get("reproduction"):
        out.append("\nreproduction (runs from any folder; fails while the bug is there):\n" + ce["reproduction"].rstrip())
    return out


def failures(results, *, verbose=False, quiet=False) -> str:
    """The failures, grouped by root cause: the leading one in full, the others of its group in
    one line each (``verbose``: all in full; ``quiet``: titles and messages only)."""
    out = []
    for title, members in groups(results):
        lines = [f"=== {title}"]
        first, rest = members[0], members[1:]
        if len(members) > 1:
            lines.append(f"--- {first.property} ({first.status})")
        lines += [first.message] if quiet else _block(first)
        if rest:
            lines.append(f"\n{len(rest)} more propert{'y' if len(rest) == 1 else 'ies'} failed on a call that already disagrees "
                         "with the definition" + ("" if verbose else " (-v or --json: their reproductions)") + ":")
            for r in rest:
                if verbose:
                    lines += [f"--- {r.property} ({r.status})", *_block(r)]
                else:
                    lines.append(f"  {r.property}: {r.message.splitlines()[0][:160]}")
        out.append("\n".join(lines))
    return "\n\n".join(out)


def progress_printer(total):
    done = {"n": 0}
    tty = sys.stderr.isatty()

    def show(result):
        done["n"] += 1
        if tty:
            sys.stderr.write(f"\r[{done['n']}/{total}] {result.backend}: {result.property} {result.status}".ljust(100)[:100])
            sys.stderr.flush()
        elif result.status in BAD or done["n"] % 25 == 0 or done["n"] == total:
            sys.stderr.write(f"[{done['n']}/{total}] {result.backend}: {result.property} {result.status}\n")

    return show
