"""The ``convspec`` command line (SPEC §5).

    convspec check TARGET... [--json PATH] [--profile NAME] [--seed N] [--only NAME...] [--jobs N]
    convspec list [--json]
    convspec report [--out DIR] [--profile NAME] [--mutants DIR] [--trusted DIR]

Exit codes of ``check``: 0 every applicable property held; 1 a property failed or errored;
2 usage or load error.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
import json
import random
import sys

from . import __version__
from .backend import LoadError, bundled_names, entry_point_names, load_backend
from .runner import PROFILES, check, default_jobs, profile_named

CELL = {"passed": "pass", "failed": "FAIL", "skipped": "skip", "error": "ERROR"}


def _properties(only):
    from .catalogue import CATALOGUE, get

    if not only:
        return list(CATALOGUE)
    return [get(name) for name in only]


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


def _progress(total):
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


def cmd_check(args) -> int:
    try:
        backends = [load_backend(t) for t in args.targets]
        props = _properties(args.only)
    except (LoadError, KeyError) as e:
        print(f"convspec: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.getrandbits(32)
    jobs = args.jobs or default_jobs(len(backends))
    profile = profile_named(args.profile)
    if args.call_timeout:
        profile = replace(profile, call_timeout=args.call_timeout)
    if args.property_timeout:
        profile = replace(profile, property_timeout=args.property_timeout)
    results = check(args.targets, props, profile=profile, seed=seed, jobs=jobs,
                    progress=_progress(len(props) * len(backends)))
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    names = [b.name for b in backends]
    print(table(results, names))
    print()
    print(f"{summary(results)}  (profile {args.profile}, seed {seed}: rerun with --seed {seed})")
    details = failures(results)
    if details:
        print()
        print(details)
    if args.json:
        payload = {
            "convspec_version": __version__,
            "profile": args.profile,
            "seed": seed,
            "backends": [{"name": b.name, "target": b.target, "ops": list(b.ops),
                          "capabilities": b.capabilities.__dict__} for b in backends],
            "results": [r.to_json() for r in results],
        }
        with open(args.json, "w") as f:
            json.dump(payload, f, indent=1, default=list)
    return 1 if any(r.status in ("failed", "error") for r in results) else 0


def catalogue_listing():
    from .catalogue import CATALOGUE

    return [{"name": p.name, "op": p.op, "concepts": list(p.concepts), "statement": p.statement,
             "requires": list(p.requires), "axes": list(p.axis_values)} for p in CATALOGUE]


def catalogue_markdown() -> str:
    """The catalogue as a Markdown table (the README carries it; a test keeps them equal)."""
    rows = ["| property | op | concepts | statement |", "|---|---|---|---|"]
    for p in catalogue_listing():
        statement = p["statement"].replace("|", "\\|")
        rows.append(f"| `{p['name']}` | {p['op']} | {', '.join(p['concepts'])} | {statement} |")
    return "\n".join(rows)


def cmd_list(args) -> int:
    backends = sorted(bundled_names()) + sorted(entry_point_names())
    props = catalogue_listing()
    if args.json:
        json.dump({"backends": backends, "properties": props}, sys.stdout, indent=1)
        print()
        return 0
    if args.markdown:
        print(catalogue_markdown())
        return 0
    print("backends: " + ", ".join(backends))
    print()
    width = max(len(p["name"]) for p in props)
    for p in props:
        print(f"{p['name'].ljust(width)}  [{', '.join(p['concepts'])}]  {p['statement']}")
    return 0


def cmd_report(args) -> int:
    from .report import write_conformance

    return write_conformance(args.out, profile=args.profile, mutants=args.mutants, trusted=args.trusted, seed=args.seed)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="convspec", description="Verify convolution implementations against chapter 9's properties.")
    parser.add_argument("--version", action="version", version=f"convspec {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="check backends against every applicable property")
    p.add_argument("targets", nargs="+", metavar="TARGET", help="bundled name, pkg.mod[:attr] or path/to/file.py[:attr]")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--profile", default="default", choices=sorted(PROFILES), help="how hard to look (default: default)")
    p.add_argument("--seed", type=int, help="hypothesis seed (default: random, printed)")
    p.add_argument("--only", nargs="+", metavar="PROPERTY", help="run only these properties")
    p.add_argument("--jobs", type=int, help="backends checked in parallel (default: up to 2)")
    p.add_argument("--call-timeout", type=float, metavar="SECONDS", help="limit for one backend call (default: the profile's)")
    p.add_argument("--property-timeout", type=float, metavar="SECONDS",
                   help="limit for one property, after which the worker is killed (default: the profile's)")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("list", help="list backends and the property catalogue")
    p.add_argument("--json", action="store_true")
    p.add_argument("--markdown", action="store_true", help="the catalogue as a Markdown table")
    p.set_defaults(run=cmd_list)

    p = sub.add_parser("report", help="check bundled, trusted and mutant backends; write reports/conformance.md")
    p.add_argument("--out", default="reports")
    p.add_argument("--profile", default="default", choices=sorted(PROFILES))
    p.add_argument("--mutants", default="tests/mutants", help="folder of deliberately wrong backends")
    p.add_argument("--trusted", default="tests/trusted", help="folder of trusted implementations")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=cmd_report)

    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
