"""The scoreboard: ``convspec scoreboard`` checks every shipped adapter whose library is
installed and writes ``scoreboard.md`` and ``scoreboard.json``: library x property family,
the library versions, and each failure either attributed to a real deviation (with its minimal
counterexample and the confirmation by plain-NumPy arithmetic, run now) or listed as
unconfirmed.  Documented conventions are listed apart.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import time
from collections import Counter

from convspec import __version__
from convspec._adapters import COMPILES_PER_SHAPE, dispatch
from convspec._adapters.deviations import CONVENTIONS, DOCUMENTED, KINDS, confirm_apart, explain
from convspec._engine import machine
from convspec._engine.backend import adapter_names, adapter_unusable
from convspec._catalogue import CATALOGUE
from convspec._frontends.console import BAD, progress_printer, root_of, summary
from convspec._frontends.shards import check_complete, shard_of
from convspec._engine.judges import check, default_jobs
from convspec._engine.runner import Result

FAMILIES = ("signal", "layer", "gradients", "pooling", "unshared", "special", "integer", "quantized", "precision", "large",
            "hygiene")


def family(prop) -> str:
    return prop.fn.__module__.rsplit(".", 1)[-1]


def _version(package: str) -> str:
    """The installed version of the distribution that provides the module ``package`` (which
    may be named otherwise: ``tensorflow`` comes from ``tensorflow-cpu`` here)."""
    names = [package] + importlib.metadata.packages_distributions().get(package, [])
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "?"


def profiles_for(names, profile="default", compiled_profile="jit") -> dict:
    """Each adapter's profile: ``compiled_profile`` (shape-stable checking, docs/howto/jit.md)
    for the libraries that compile per shape, ``profile`` for the others; ``compiled_profile``
    ``None`` gives every adapter ``profile``."""
    return {a: compiled_profile if compiled_profile and a in COMPILES_PER_SHAPE else profile for a in names}


def scoreboard(*, profile="default", seed=0, adapters=None, progress=True, compiled_profile="jit",
               properties=None, shard=None, balanced_by=None, keep=None) -> dict:
    """Check the adapters (default: every one whose library is installed and can run here)
    against ``properties`` (default: the catalogue); plain data.  ``keep``: a path where the
    run's results are written before they are attributed (``--results`` attributes them)."""
    names = list(adapters or [a for a in adapter_names() if adapter_unusable(a) is None])
    props = list(properties or CATALOGUE)
    profiles = profiles_for(names, profile, compiled_profile)
    started = time.time()
    run = check(names, props, profile=profile, seed=seed, jobs=default_jobs(len(names)), profiles=profiles,
                progress=progress_printer(len(names) * len(props)) if progress else None)
    duration = round(time.time() - started, 1)
    if keep:  # an hour of checking is not lost if attributing fails
        os.makedirs(os.path.dirname(keep) or ".", exist_ok=True)
        with open(keep, "w") as f:
            json.dump({"convspec_version": __version__, "profile": profile, "seed": seed, "duration": duration,
                       "shard": shard, "balanced_by": balanced_by, "load_errors": run.load_errors,
                       "adapters": {a: {"profile": profiles[a]} for a in names}, "attributed": False,
                       "results": [r.to_json() for r in run.results]}, f, default=list)
    return attribute(run.results, names, profile=profile, seed=seed, duration=duration,
                     load_errors=run.load_errors, profiles=profiles, shard=shard, balanced_by=balanced_by)


def attribute(results, names, *, profile, seed, duration, load_errors, profiles=None, shard=None, balanced_by=None,
              shards=None) -> dict:
    """The board for one run's results: each failure attributed to a confirmed deviation, to a
    documented behaviour, or left unconfirmed (the confirmations run now)."""
    results = [r if isinstance(r, Result) else Result(**r) for r in results]
    missing = {a: why for a in adapter_names() if a not in names and (why := adapter_unusable(a))}
    fam = {p.name: family(p) for p in CATALOGUE}
    table = {a: {f: dict(Counter(r.status for r in results if r.backend == a and fam[r.property] == f))
                 for f in FAMILIES} for a in names}
    deviations, unconfirmed = {}, []
    failing = [(r, explain(r.backend, r.property, r.message)) for r in results if r.status in BAD]
    # keyed by adapter and text: two libraries can deviate alike, each confirmed on its own
    evidence = confirm_apart(list({(d.adapter, d.what): d for _, d in failing if d is not None}.values()))
    for r, d in failing:
        if d is None or not evidence[d.adapter, d.what][0]:
            unconfirmed.append(r)
            continue
        entry = deviations.setdefault((d.adapter, d.what), {"adapter": d.adapter, "what": d.what,
                                                            "evidence": evidence[d.adapter, d.what][1],
                                               "kind": d.kind, "cpu": list(d.cpu), "properties": [],
                                               "counterexample": None, "documented": d in DOCUMENTED})
        if r.property not in entry["properties"]:
            entry["properties"].append(r.property)
        if entry["counterexample"] is None or len(r.counterexample.get("reproduction", "")) < \
                len(entry["counterexample"].get("reproduction", "")):
            entry["counterexample"] = {"property": r.property, "message": r.message, **(r.counterexample or {})}
    return {
        "convspec_version": __version__, "profile": profile, "seed": seed, "duration": duration,
        "machine": machine.describe(), "shard": shard, "balanced_by": balanced_by, "shards": shards,
        "adapters": {a: {"package": adapter_names()[a][1], "version": _version(adapter_names()[a][1]),
                         "covers": adapter_names()[a][2], "profile": (profiles or {}).get(a, profile),
                         "dispatch": dispatch(a),
                         "summary": summary([r for r in results if r.backend == a])}
                     for a in names},
        "not_checked": missing, "load_errors": load_errors, "families": table,
        "deviations": [d for d in deviations.values() if not d["documented"]],
        "documented": [d for d in deviations.values() if d["documented"]],
        "unconfirmed": [{"adapter": r.backend, "property": r.property, "status": r.status, "message": r.message,
                         "root_cause": root_of(r)} for r in unconfirmed],
        "conventions": {a: CONVENTIONS.get(a, []) for a in names},
        "results": [r.to_json() for r in results],
    }


def _cell(counts: dict) -> str:
    if not counts or set(counts) == {"skipped"}:
        return "-"
    bad = counts.get("failed", 0) + counts.get("error", 0)
    text = f"{counts.get('passed', 0)}/{counts.get('passed', 0) + bad}"
    return f"**{text}**" if bad else text


def markdown(board: dict) -> str:
    adapters = list(board["adapters"])
    merged = f", merged from {len(board['shards'])} shards" if board.get("shards") else ""
    lines = ["# convspec scoreboard", "",
             f"Generated by `convspec scoreboard --profile {board['profile']} --seed {board['seed']}` (convspec "
             f"{board['convspec_version']}) in {board['duration']:.0f} s{merged}"
             + (f", on {board['machine']}" if board.get("machine") else "") + ". Each library is checked through its "
             "shipped adapter, which translates conventions only; the verdict is the library's. Libraries that "
             "compile per shape run the shape-stable profile `jit` (docs/howto/jit.md).", "",
             "## Libraries", "", "| adapter | library | version | covers | profile | result |", "|---|---|---|---|---|---|"]
    for a, info in board["adapters"].items():
        version = info["version"] + (f" ({info['dispatch']})" if info.get("dispatch") else "")
        lines.append(f"| `{a}` | {info['package']} | {version} | {info['covers']} | "
                     f"{info.get('profile', board['profile'])} | {info['summary']} |")
    if board.get("not_checked"):
        lines += ["", "Not checked here: " + "; ".join(f"`{a}` ({why})" for a, why in board["not_checked"].items()) + "."]
    lines += ["", "## Passed / applicable properties per family", "",
              "A bold cell holds a failure; `-`: the library has no function of that family.", "",
              "| family | " + " | ".join(adapters) + " |", "|---" * (len(adapters) + 1) + "|"]
    for f in FAMILIES:
        cells = (_cell(board["families"][a].get(f, {})) for a in adapters)  # an older board lacks newer families
        lines.append(f"| {f} | " + " | ".join(cells) + " |")
    lines += ["", "## Real deviations", "",
              "Each confirmed now by independent arithmetic (the library beside plain NumPy in float64), not by "
              "convspec's reference alone.", ""]
    if not board["deviations"]:
        lines.append("None found in this run.")
    else:
        lines += ["Confirmed deviations by kind:", "", "| kind | " + " | ".join(adapters) + " |",
                  "|---" * (len(adapters) + 1) + "|"]
        for kind, meaning in KINDS.items():
            counts = [sum(d["adapter"] == a and d.get("kind") == kind for d in board["deviations"]) for a in adapters]
            if any(counts):
                lines.append(f"| {kind} ({meaning}) | " + " | ".join(str(c or "") for c in counts) + " |")
        lines.append("")
    for d in board["deviations"]:
        ce = d["counterexample"]
        lines += [f"### `{d['adapter']}`: {d['what']}", "",
                  f"- Kind: {d.get('kind', '?')}"
                  + (f"; shows on CPUs with {', '.join(d['cpu'])} (this run: {board.get('machine', '?')})"
                     if d.get("cpu") else ""),
                  f"- Properties that failed for it: {', '.join(f'`{p}`' for p in d['properties'])}",
                  f"- Confirmation: {d['evidence']}",
                  f"- convspec ({ce['property']}): {ce['message'].splitlines()[0]}", "",
                  "Minimal counterexample (reproduction, runs as printed):", "", "```python",
                  ce.get("reproduction", "").rstrip(), "```", ""]
    if board.get("documented"):
        lines += ["## Failures that are a library's documented behaviour", "",
                  "Confirmed the same way, but the library states this behaviour: a convention, not a deviation.", ""]
        for d in board["documented"]:
            lines += [f"- `{d['adapter']}`: {d['what']}. Properties: {', '.join(f'`{p}`' for p in d['properties'])}. "
                      f"Confirmation: {d['evidence']}. convspec: {d['counterexample']['message'].splitlines()[0]}"]
        lines.append("")
    lines += ["## Unconfirmed failures", ""]
    if board["unconfirmed"]:
        lines.append("Failures no confirmed deviation explains: not called library bugs until independent arithmetic "
                     "confirms them.")
        lines += [""] + [f"- `{u['adapter']}` / `{u['property']}` ({u['status']}): {u['message'].splitlines()[0]}"
                         for u in board["unconfirmed"]]
    else:
        lines.append("None: every failure is attributed above.")
    lines += ["", "## Documented conventions (translated by the adapters, not deviations)", ""]
    for a, items in board["conventions"].items():
        lines += [f"- `{a}`: " + "; ".join(items)] if items else []
    return "\n".join(lines) + "\n"


def joined(boards: list, names: list) -> dict:
    """The results of several ``scoreboard.json`` (one, or every shard of one run once) as one
    run's: ``ValueError`` naming the file where they do not belong together."""
    first = boards[0]
    for board, name in zip(boards, names):
        for key in ("convspec_version", "profile", "seed", "balanced_by"):
            if board.get(key) != first.get(key):
                raise ValueError(f"{name}: {key}={board.get(key)!r}, but {names[0]} has {first.get(key)!r}")
        if len(boards) > 1 and not board.get("shard"):
            raise ValueError(f"{name}: not a shard (run convspec scoreboard --shard K/N): give one board, or every "
                             "shard of one")
    if len(boards) > 1:
        check_complete([tuple(board["shard"]) for board in boards], names, "board")
    adapters = list(dict.fromkeys(a for board in boards for a in board["adapters"]))
    return {"results": [r for board in boards for r in board["results"]], "adapters": adapters,
            "profile": first["profile"], "seed": first["seed"], "balanced_by": first.get("balanced_by"),
            "duration": max(board["duration"] for board in boards),
            "load_errors": {k: v for board in boards for k, v in (board.get("load_errors") or {}).items()},
            "profiles": {a: info.get("profile", first["profile"]) for board in boards
                         for a, info in board["adapters"].items()},
            "shard": None if len(boards) > 1 else first.get("shard"),
            "shards": {name: board.get("shard") for board, name in zip(boards, names)} if len(boards) > 1 else None}


def write_scoreboard(out="reports", *, profile="default", seed=0, adapters=None, results=None, compiled_profile="jit",
                     shard=None, durations=None) -> int:
    """Write ``scoreboard.md`` and ``scoreboard.json`` into ``out``; 0 unless an adapter failed to
    load or a failure is unconfirmed (a deviation the arithmetic has not confirmed).
    ``results``: earlier ``scoreboard.json`` files (one, or every shard of one run) to
    attribute again instead of checking anew; ``shard``: ``(K, N)``, this run's share of the
    properties (balanced by the timings of the report ``durations``)."""
    if results:
        boards = []
        for path in results:
            with open(path) as f:
                boards.append(json.load(f))
        old = joined(boards, list(results))
        board = attribute(old["results"], old["adapters"], profile=old["profile"], seed=old["seed"],
                          duration=old["duration"], load_errors=old["load_errors"], profiles=old["profiles"],
                          shard=old["shard"], balanced_by=old["balanced_by"], shards=old["shards"])
    else:
        props, balanced_by = shard_of(list(CATALOGUE), shard, durations)
        board = scoreboard(profile=profile, seed=seed, adapters=adapters, compiled_profile=compiled_profile,
                           properties=props, shard=list(shard) if shard else None, balanced_by=balanced_by,
                           keep=os.path.join(out, "scoreboard.json"))
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "scoreboard.md"), "w") as f:
        f.write(markdown(board))
    with open(os.path.join(out, "scoreboard.json"), "w") as f:
        json.dump(board, f, indent=1, default=list)
    print(f"wrote {os.path.join(out, 'scoreboard.md')}: {len(board['adapters'])} libraries, "
          f"{len(board['deviations'])} confirmed deviations, {len(board['unconfirmed'])} unconfirmed failures")
    return 1 if board["unconfirmed"] or board["load_errors"] else 0
