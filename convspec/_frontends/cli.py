"""The ``convspec`` command line (docs/howto/declare.md).

    convspec check TARGET... [--json PATH] [--profile NAME] [--seed N] [--only NAME...] [--jobs N]
    convspec list [--json]
    convspec report [--out DIR] [--profile NAME] [--mutants DIR] [--trusted DIR]
    convspec scoreboard [--out DIR] [--adapters NAME...] [--shard K/N] [--results JSON...]
    convspec bench TARGET... [--suite NAME...] [--problems FILE] [--peers NAME...] [--threads N] [--out DIR]

Exit codes of ``check``: 0 every applicable property held; 1 a property failed or errored;
2 usage or load error.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.machinery
import json
import os
import random
import signal
import sys
import tempfile
import time
from dataclasses import asdict, replace

from convspec import __version__
from convspec._versions import CATALOGUE_VERSIONS
from convspec._engine.backend import LoadError, adapter_available, adapter_names, bundled_names, entry_point_names, split_target, target_kind
from convspec._engine import known_failures as known
from convspec._frontends.console import (colours_wanted, declines, failures, progress_printer, skipped, statistics,
                                         summary, table)
from convspec._engine.judges import Interrupted, check, default_jobs
from convspec._engine.processes import (SANDBOXES, adopt_orphans, bwrap_usable, default_memory_limit, forbid_inspection,
                                        kill_descendants, parse_size)
from convspec._engine.runner import PROFILES, examples_database, profile_named
from convspec._frontends.shards import check_complete, shard_of

def _properties(only, version=None):
    """The properties to run: ``--only``'s, or the whole catalogue of ``version`` (pinned by
    ``--catalogue-version``; a name outside the pinned catalogue is a usage error)."""
    from convspec._catalogue import get, in_version, select

    if not only:
        return list(select(version))
    props = [get(name) for name in only]
    for p in props:
        if version is not None and not in_version(p, version):
            raise KeyError(f"property={p.name!r} is not in catalogue {version} (added in {p.added}"
                           + "".join(f", changed in {v}" for v, _ in p.changed) + ")")
    return props


def _catalogue_version(value):
    """``--catalogue-version``: a catalogue version, checked as argparse reads it."""
    from convspec._catalogue import check_version

    try:
        return check_version(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"--catalogue-version: {e}") from None


def _precheck(targets):
    """Usage errors found without importing anything of a target (exit 2 at once)."""
    for t in targets:
        kind = target_kind(t)
        if kind == "file":
            base, _ = split_target(t)
            if not os.path.isfile(base):
                raise LoadError(f"TARGET file {base!r} does not exist")
        if kind == "module" and "." not in t and ":" not in t:
            # a bare name: a misspelled bundled backend or entry point is the likely cause
            known = list(bundled_names()) + list(adapter_names()) + list(entry_point_names())
            close = difflib.get_close_matches(t, known, n=2, cutoff=0.7)
            if close and importlib.machinery.PathFinder.find_spec(t, sys.path + [os.getcwd()]) is None:
                raise LoadError(f"TARGET={t!r} is not a bundled backend, an entry point or an importable module "
                                f"(did you mean {' or '.join(map(repr, close))}?)")


def _writable(path) -> str | None:
    """Why ``--json PATH`` could not be written (``None``: it can), found before the run."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        return f"--json {path!r} is a folder, but should be a file path"
    if not os.path.isdir(folder):
        return f"--json {path!r}: the folder {folder!r} does not exist"
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        return f"--json {path!r} is not writable"
    return None


#: Version of the ``--json`` layout (docs/reference/cli.md); raised when a field changes meaning or goes.
SCHEMA = 2


def environment() -> dict:
    """Where the run happened: versions and the machine, for comparing results later."""
    import platform

    import hypothesis
    import numpy

    return {"python": platform.python_version(), "implementation": platform.python_implementation(),
            "numpy": numpy.__version__, "hypothesis": hypothesis.__version__, "platform": platform.platform(),
            "machine": platform.machine(), "cpus": os.cpu_count()}


def write_json(path, payload) -> None:
    """Write ``payload`` atomically: a temporary file beside ``path``, then a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".convspec-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=1, default=list)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def unexercised(run) -> list[str]:
    """Loaded backends on which no property ran (every result skipped)."""
    out = []
    for b in run.backends:
        mine = [r for r in run.results if r.backend == b.label]
        if mine and all(r.status == "skipped" for r in mine):
            out.append(b.label)
    return out


def _shard(text: str) -> tuple[int, int]:
    """``K/N`` (1 <= K <= N) as ``(K, N)``; argparse's error otherwise."""
    try:
        index, count = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}, but should be K/N, e.g. 1/4") from None
    if not 1 <= index <= count:
        raise argparse.ArgumentTypeError(f"{text!r}, but K should be between 1 and N")
    return index, count


#: What every shard of one run must share.
SHARED = ("convspec_version", "catalogue_version", "profile", "seed", "targets", "balanced_by")



def merge_reports(reports: list[dict], names: list[str]) -> dict:
    """One report from the --json reports of a sharded check; ``ValueError`` naming the report
    and the field where they do not belong to one run, or where a shard is missing or doubled."""
    if not reports:
        raise ValueError("no report given")
    first = reports[0]
    for report, name in zip(reports, names):
        if report.get("running"):
            raise ValueError(f"{name}: that shard has not finished (or was killed): no verdict yet")
        if not report.get("shard"):
            raise ValueError(f"{name}: not the report of a sharded check (no 'shard': run convspec check --shard K/N)")
        for key in SHARED:
            if report.get(key) != first.get(key):
                raise ValueError(f"{name}: {key}={report.get(key)!r}, but {names[0]} has {first.get(key)!r}: "
                                 "the shards of one run share it")
    check_complete([tuple(report["shard"]) for report in reports], names, "report")
    owner: dict = {}
    for report, name in zip(reports, names):
        for prop in report.get("properties", []):
            if prop in owner:  # shards cut from different timings would overlap
                raise ValueError(f"{name}: property {prop} is also in {owner[prop]}: the shards were not cut alike")
            owner[prop] = name
    results = [r for report in reports for r in report.get("results", [])]
    load_errors = {k: v for report in reports for k, v in (report.get("load_errors") or {}).items()}
    backends = {b["label"]: b for report in reports for b in report.get("backends", [])}
    complete = all(report.get("complete") for report in reports)
    statuses = [report.get("exit_status") for report in reports]
    return {**{k: first.get(k) for k in ("schema",) + SHARED}, "command": ["convspec", "merge", *names],
            "shards": {name: {"shard": report["shard"], "exit_status": report.get("exit_status"),
                              "duration": report.get("duration")} for report, name in zip(reports, names)},
            "properties": [p for report in reports for p in report.get("properties", [])],
            "complete": complete, "exit_status": None if complete else next(s for s in statuses if s not in (0, 1, 2)),
            "summary": {s: sum(r["status"] == s for r in results) for s in ("passed", "failed", "error", "skipped",
                                                                         "xfailed")},
            "backends": list(backends.values()), "load_errors": load_errors, "results": results}


def cmd_merge(args) -> int:
    from convspec._engine.runner import Result

    reports = []
    for path in args.reports:
        try:
            with open(path) as f:
                reports.append(json.load(f))
        except (OSError, ValueError) as e:
            print(f"convspec: REPORT {path!r} cannot be read as a convspec --json report: {e}", file=sys.stderr)
            return 2
    try:
        merged = merge_reports(reports, args.reports)
    except ValueError as e:
        print(f"convspec: {e}", file=sys.stderr)
        return 2
    results = [Result(**r) for r in merged["results"]]
    labels = [b["label"] for b in merged["backends"]]
    if labels and not args.quiet and (shown := table(results, labels, verbose=args.verbose, colour=colours_wanted())):
        print(shown)
        print()
    print(f"{summary(results)}  (merged {len(reports)} shards: profile {merged['profile']}, seed {merged['seed']})")
    if details := failures(results, verbose=args.verbose, quiet=args.quiet):
        print()
        print(details)
    idle = [label for label in labels if (mine := [r for r in results if r.backend == label])
            and all(r.status == "skipped" for r in mine)]
    for label in idle:
        print(f"convspec: no property ran against {label} in any shard: nothing of what it computes was checked",
              file=sys.stderr)
    for label, message in merged["load_errors"].items():
        print(f"convspec: {label}: {message}", file=sys.stderr)
    if not merged["complete"]:
        print("convspec: a shard was interrupted: the results are incomplete", file=sys.stderr)
        code = merged["exit_status"] or 1
    elif merged["load_errors"]:
        code = 2
    elif any(r.status in ("failed", "error") for r in results) or idle:
        code = 1
    else:
        code = 0
    merged["exit_status"] = code
    if args.json:
        write_json(args.json, merged)
    return code


def cmd_check(args) -> int:
    started = time.time()
    try:
        _precheck(args.targets)
        props = _properties(args.only, args.catalogue_version)
    except (LoadError, KeyError) as e:
        print(f"convspec: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    try:  # a deterministic share: the shards of one seed give the unsharded run's results
        props, balanced_by = shard_of(props, args.shard, args.durations)
    except ValueError as e:
        print(f"convspec: {e}", file=sys.stderr)
        return 2
    for flag, value in (("--jobs", args.jobs), ("--max-examples", args.max_examples)):
        if value is not None and value < 1:
            print(f"convspec: {flag}={value}, but should be at least 1", file=sys.stderr)
            return 2
    if args.json and (why := _writable(args.json)):
        print(f"convspec: {why}", file=sys.stderr)
        return 2
    if args.json:  # an earlier report at this path must not outlive this run's start (a CI step reads it)
        write_json(args.json, {"schema": SCHEMA, "convspec_version": __version__, "command": ["convspec", *args.argv],
                               "complete": False, "exit_status": None, "running": True,
                               "message": "this run started and has not finished (or was killed): no verdict yet",
                               "results": []})
    try:
        xfails = known.read(args.xfails, "--xfails") if args.xfails else []
        skips = known.read(args.skips, "--skips") if args.skips else []
    except ValueError as e:
        print(f"convspec: {e}", file=sys.stderr)
        return 2
    used = set()

    def skip(label, name):
        entry = known.first_match(skips, name, (label,))
        if entry is None:
            return None
        used.add(entry)
        return f"listed in --skips ({entry.source}{': ' + entry.reason if entry.reason else ''})"
    seed = args.seed if args.seed is not None else random.getrandbits(32)
    jobs = args.jobs or default_jobs(len(args.targets))
    profile = profile_named(args.profile)
    if args.call_timeout:
        profile = replace(profile, call_timeout=args.call_timeout)
    if args.property_timeout:
        profile = replace(profile, property_timeout=args.property_timeout)
    if args.sandbox == "bwrap" and not bwrap_usable():
        print("convspec: --sandbox bwrap, but bubblewrap is not installed here or cannot make namespaces "
              "(apt-get install bubblewrap); --sandbox process runs without it", file=sys.stderr)
        return 2
    try:
        memory_limit = parse_size(args.memory_limit) if args.memory_limit else default_memory_limit()
    except ValueError as e:
        print(f"convspec: --memory-limit {e}", file=sys.stderr)
        return 2
    forbid_inspection()  # a backend running as the same user cannot read this process or open its pipes
    adopt_orphans()  # what a judge leaves behind is re-parented here, and killed below
    try:
        run = check(args.targets, props, profile=profile, seed=seed, jobs=jobs,
                    progress=progress_printer(len(props) * len(args.targets)), import_timeout=args.import_timeout,
                    examples=args.max_examples, database=examples_database(args.examples_db), skip=skip,
                    catalogue=args.catalogue_version, sandbox=args.sandbox, memory_limit=memory_limit)
    except Interrupted as e:
        run = e.run
    finally:
        kill_descendants()
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    results, matched = known.apply_xfails(run.results, xfails, strict=args.strict_xfails)
    run = replace(run, results=results)
    labels = [b.label for b in run.backends]
    colour = colours_wanted()
    if labels and not args.quiet:
        shown = table(run.results, labels, verbose=args.verbose or args.show_skipped, colour=colour)
        if shown:
            print(shown)
            print()
        if not (args.verbose or args.show_skipped) and (lines := skipped(run.results, labels)):
            print(lines + "\n  (--show-skipped or -v: the full table)")
            print()
        if lines := declines(run.results, verbose=args.verbose):
            print(lines)
            print()
        if args.statistics and (lines := statistics(run.results)):
            print(lines)
            print()
        elif args.verbose and (lines := statistics(run.results, accuracy_only=True)):
            print(lines)
            print()
        known_failures = [r for r in run.results if r.status == "xfailed"]
        for r in known_failures if args.verbose else ():
            print(f"known failure: {r.backend} :: {r.property} -- {r.message.splitlines()[0][:200]}")
    if labels:
        boxes = sorted({b.sandbox for b in run.backends if b.sandbox})
        print(f"{summary(run.results)}  (profile {args.profile}, seed {seed}: rerun with --seed {seed}"
              + (f"; shard {args.shard[0]}/{args.shard[1]}: {len(props)} properties, convspec merge joins the "
                 "shards' --json reports" if args.shard else "")
              + (f"; executors: {', '.join(boxes)}" if boxes else "") + ")")
    details = failures(run.results, verbose=args.verbose, quiet=args.quiet)
    if details:
        print()
        print(details)
    for warning in known.unused(xfails, matched) + known.unused(skips, used):
        print(f"convspec: warning: {warning}", file=sys.stderr)
    fixed = [r for r in run.results if r.status == "passed" and r.replayed]
    if fixed:
        print()
        for r in fixed:
            print(f"now passing: {r.backend} :: {r.property} -- {r.message}")
    idle = [] if args.shard else unexercised(run)  # a shard may hold no property of a target: merge judges that
    for label in idle:
        print(f"convspec: no property ran against {label}: every one was skipped (see the reasons with --json); "
              "nothing of what it computes was checked", file=sys.stderr)
    for label, message in run.load_errors.items():
        print(f"convspec: {label}: {message}", file=sys.stderr)
    if not run.complete:
        print(f"convspec: interrupted by {signal.Signals(run.signal).name}: the results above are incomplete",
              file=sys.stderr)
        code = 128 + run.signal
    elif run.load_errors:
        code = 2
    elif any(r.status in ("failed", "error") for r in run.results) or idle:
        code = 1
    else:
        code = 0
    if args.json:
        counts = {s: sum(r.status == s for r in run.results) for s in ("passed", "failed", "error", "skipped", "xfailed")}
        write_json(args.json, {
            "schema": SCHEMA,
            "convspec_version": __version__,
            "command": ["convspec", *args.argv],
            "environment": environment(),
            "targets": list(args.targets),
            "known_failures": {"xfails": args.xfails, "skips": args.skips, "strict_xfails": args.strict_xfails,
                               "unused": known.unused(xfails, matched) + known.unused(skips, used)},
            "catalogue_version": args.catalogue_version or CATALOGUE_VERSIONS[-1],
            "profile": args.profile,
            "sandbox": {b.label: b.sandbox for b in run.backends},
            "memory_limit": memory_limit,
            "seed": seed,
            "shard": list(args.shard) if args.shard else None,
            "balanced_by": balanced_by,
            "properties": [p.name for p in props],
            "complete": run.complete,
            "exit_status": code,
            "duration": round(time.time() - started, 3),
            "summary": counts,
            "backends": [asdict(b) for b in run.backends],
            "load_errors": run.load_errors,
            "results": [r.to_json() for r in run.results],
        })
    return code


def catalogue_listing(version=None):
    from convspec._catalogue import listing

    return listing(version)


def catalogue_markdown() -> str:
    """The catalogue as a Markdown table (``convspec list --markdown``)."""
    rows = ["| property | op | concepts | statement |", "|---|---|---|---|"]
    for p in catalogue_listing():
        statement = p["statement"].replace("|", "\\|")
        rows.append(f"| `{p['name']}` | {p['op']} | {', '.join(p['concepts'])} | {statement} |")
    return "\n".join(rows)


def cmd_list(args) -> int:
    backends = sorted(bundled_names()) + sorted(entry_point_names())
    adapters = {name: {"covers": covers, "needs": package, "available": adapter_available(name)}
                for name, (_, package, covers) in sorted(adapter_names().items())}
    props = catalogue_listing(args.catalogue_version)
    if args.json:
        json.dump({"catalogue_version": args.catalogue_version or CATALOGUE_VERSIONS[-1], "backends": backends, "adapters": adapters,
                   "properties": props}, sys.stdout, indent=1)
        print()
        return 0
    if args.markdown:
        print(catalogue_markdown())
        return 0
    print("backends: " + ", ".join(backends))
    print("adapters (the library as it is; convspec check NAME):")
    for name, a in adapters.items():
        print(f"  {name:14s} {a['covers']} [{'available' if a['available'] else 'needs ' + a['needs'] + ', not installed'}]")
    print()
    print(f"catalogue {args.catalogue_version or CATALOGUE_VERSIONS[-1]}: {len(props)} properties")
    width = max(len(p["name"]) for p in props)
    for p in props:
        print(f"{p['name'].ljust(width)}  [{', '.join(p['concepts'])}]  {p['statement']}")
    return 0


def cmd_report(args) -> int:
    from convspec._frontends.conformance import write_conformance

    return write_conformance(args.out, profile=args.profile, mutants=args.mutants, trusted=args.trusted, seed=args.seed)


def cmd_scoreboard(args) -> int:
    from convspec._frontends.scoreboard import write_scoreboard

    unknown = [a for a in args.adapters or [] if a not in adapter_names()]
    if unknown:
        print(f"convspec: adapter={unknown[0]!r}, but should be one of {', '.join(adapter_names())}", file=sys.stderr)
        return 2
    try:
        return write_scoreboard(args.out, profile=args.profile, seed=args.seed, adapters=args.adapters,
                                results=args.results, shard=args.shard, durations=args.durations,
                                compiled_profile=None if args.compiled_profile == "same" else args.compiled_profile)
    except (OSError, ValueError) as e:
        print(f"convspec: {e}", file=sys.stderr)
        return 2


def cmd_bench(args) -> int:
    from convspec._bench.command import run

    return run(args)


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
    p.add_argument("--catalogue-version", type=_catalogue_version, metavar="X",
                   help="run exactly the properties of catalogue version X, so that an upgrade of convspec never "
                        f"adds or changes a property under a pinned CI (default: this convspec's, {CATALOGUE_VERSIONS[-1]})")
    p.add_argument("--jobs", type=int, help="backends checked in parallel (default: up to 2)")
    p.add_argument("--call-timeout", type=float, metavar="SECONDS", help="limit for one backend call (default: the profile's)")
    p.add_argument("--property-timeout", type=float, metavar="SECONDS",
                   help="limit for one property: no call starts after it (default: the profile's)")
    p.add_argument("--import-timeout", type=float, metavar="SECONDS",
                   help="limit for loading a target in its executor (default: 120)")
    p.add_argument("--max-examples", type=int, metavar="N", help="examples per property (default: the profile's)")
    p.add_argument("--sandbox", choices=SANDBOXES,
                   help="what a target's executor runs in: bwrap (bubblewrap: namespaces of its own, a read-only file "
                        "system; the default where it works) or process (its own process group, limits from outside)")
    p.add_argument("--memory-limit", metavar="SIZE", help="resident memory of each executor, e.g. 4G (default: "
                                                          "the machine's memory, at most 16G)")
    p.add_argument("--xfails", metavar="FILE", help="known failures, one [BACKEND::]PROPERTY glob per line, '#' comments as "
                                                   "reasons: reported, but not a failure")
    p.add_argument("--skips", metavar="FILE", help="properties not to run, same format")
    p.add_argument("--strict-xfails", action=argparse.BooleanOptionalAction, default=True,
                   help="a listed failure that passes fails the run (default: yes)")
    p.add_argument("-v", "--verbose", action="store_true", help="the full table, and every failure in full")
    p.add_argument("-q", "--quiet", action="store_true", help="the summary and the failures' messages only")
    p.add_argument("--show-skipped", action="store_true", help="the full table, skipped properties included")
    p.add_argument("--statistics", action="store_true",
                   help="per backend and property: examples, share declined, shrink steps, seconds, worst error/bound")
    p.add_argument("--shard", type=_shard, metavar="K/N",
                   help="run the K-th of N shares of the properties (every N-th from the K-th, or balanced by "
                        "--durations), e.g. on N machines with one --seed; convspec merge joins their --json reports")
    p.add_argument("--durations", metavar="JSON", help="an earlier run's --json report: cut the shards so that each "
                                                       "takes about the same time (every shard must be given the same)")
    p.add_argument("--examples-db", metavar="PATH|off",
                   help="folder of remembered counterexamples, replayed first (default: $CONVSPEC_EXAMPLES_DB, else "
                        "~/.cache/convspec/examples/<this folder>); 'off' for none")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("merge", help="join the --json reports of a sharded check (--shard K/N) into one verdict")
    p.add_argument("reports", nargs="+", metavar="REPORT.json", help="every shard's report, once each")
    p.add_argument("--json", metavar="PATH", help="write the joined report here")
    p.add_argument("-v", "--verbose", action="store_true", help="the full table, and every failure in full")
    p.add_argument("-q", "--quiet", action="store_true", help="the summary and the failures' messages only")
    p.set_defaults(run=cmd_merge)

    p = sub.add_parser("list", help="list backends and the property catalogue")
    p.add_argument("--json", action="store_true")
    p.add_argument("--catalogue-version", type=_catalogue_version, metavar="X",
                   help=f"the properties of catalogue version X (default: this convspec's, {CATALOGUE_VERSIONS[-1]})")
    p.add_argument("--markdown", action="store_true", help="the catalogue as a Markdown table")
    p.set_defaults(run=cmd_list)

    p = sub.add_parser("report", help="check bundled, trusted and mutant backends; write reports/conformance.md")
    p.add_argument("--out", default="reports")
    p.add_argument("--profile", default="default", choices=sorted(PROFILES))
    p.add_argument("--mutants", default="tests/mutants", help="folder of deliberately wrong backends ('none': none)")
    p.add_argument("--trusted", default="tests/trusted", help="folder of trusted implementations")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=cmd_report)

    p = sub.add_parser("scoreboard", help="check every shipped adapter whose library is installed; write "
                                          "reports/scoreboard.md")
    p.add_argument("--out", default="reports")
    p.add_argument("--profile", default="default", choices=sorted(PROFILES))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--adapters", nargs="+", metavar="NAME", help="only these adapters (default: every installed one)")
    p.add_argument("--compiled-profile", default="jit", choices=sorted(PROFILES) + ["same"],
                   help="the profile of the libraries that compile per shape (default: jit, shape-stable checking; "
                        "'same': --profile)")
    p.add_argument("--shard", type=_shard, metavar="K/N", help="check the K-th of N shares of the properties "
                                                                "(convspec scoreboard --results joins the shards)")
    p.add_argument("--durations", metavar="JSON", help="an earlier run's JSON: cut the shards to take about equal time")
    p.add_argument("--results", metavar="JSON", nargs="+",
                   help="attribute the results of earlier scoreboard.json files again (one, or every shard of one "
                        "run) instead of checking anew")
    p.set_defaults(run=cmd_scoreboard)

    p = sub.add_parser("bench", help="time implementations against auto and the installed peers, each result checked "
                                     "first; write bench.md, bench.json and plots")
    p.add_argument("targets", nargs="+", metavar="TARGET", help="bundled name, pkg.mod[:attr] or path/to/file.py[:attr]")
    p.add_argument("--suite", nargs="+", metavar="NAME", help="suites to run (default: all, or none with --problems): "
                   "resnet50, mobilenetv2, audio-1d, video-3d, signals, separable, pooling, gradients")
    p.add_argument("--problems", metavar="FILE", help="your own problems, one 'OP DESCRIPTOR' line each "
                                                     "(e.g. 'conv mb1ic64ih56oc64kh3ph1')")
    p.add_argument("--peers", nargs="*", metavar="NAME", help="peers timed beside the targets when installed "
                                                             "(default: every one installed of auto, torch, "
                                                             "onnxruntime, openvino, jax, the scipy methods, numpy)")
    p.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP/Numba/PyTorch threads (default: 1)")
    p.add_argument("--out", default="bench-report", help="folder for bench.md, bench.json and the plots")
    p.add_argument("--compare", metavar="OLD.json", help="flag changes against an earlier bench.json beyond the spread")
    p.add_argument("--quick", action="store_true", help="the quick version of each suite, fewer rounds")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.set_defaults(run=cmd_bench)

    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
