"""Which properties a shard of a run holds (``--shard K/N``): every property in exactly one
shard, the same on every machine.  Without timings, every N-th property from the K-th; with
an earlier run's JSON (``--durations``), the longest first, each to the shard with the least
time so far (ties to the lower shard), so the shards finish together."""

from __future__ import annotations

import hashlib
import json


def durations_of(path: str) -> dict:
    """``{property: seconds}`` summed over the backends of an earlier ``--json`` report of
    ``convspec check``, ``merge`` or ``scoreboard``; ``ValueError`` naming the file where it is
    not one."""
    try:
        with open(path) as f:
            report = json.load(f)
        seconds: dict = {}
        for r in report["results"]:
            seconds[r["property"]] = seconds.get(r["property"], 0.0) + float(r.get("seconds") or 0.0)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"--durations {path!r} cannot be read as a convspec --json report: {e}") from None
    return seconds


def share(names: list, index: int, count: int, durations: dict | None = None) -> list:
    """The names shard ``index`` of ``count`` (1-based) runs, in their catalogue order.  A
    property the timings do not know counts as their median (1 s without timings)."""
    if not durations:
        return names[index - 1::count]
    known = sorted(durations[n] for n in names if n in durations)
    guess = known[len(known) // 2] if known else 1.0
    order = sorted(range(len(names)), key=lambda i: (-durations.get(names[i], guess), i))
    load, owner = [0.0] * count, {}
    for i in order:
        k = min(range(count), key=lambda s: (load[s], s))
        load[k] += durations.get(names[i], guess)
        owner[i] = k
    return [n for i, n in enumerate(names) if owner[i] == index - 1]


def digest(timings: dict | None) -> str | None:
    """A short fingerprint of the timings shards were balanced by (``None``: every N-th)."""
    if not timings:
        return None
    return hashlib.sha256(json.dumps(sorted(timings.items())).encode()).hexdigest()[:16]


def shard_of(props: list, shard, durations: str | None) -> tuple[list, str | None]:
    """The properties a run of ``shard`` (``(K, N)``, or None: every one) holds, cut by the
    timings of the earlier report ``durations`` when given, and the fingerprint of those timings
    (the report's ``balanced_by``); ``ValueError`` for ``durations`` without a shard or a file
    that is not a report."""
    if not shard:
        if durations:
            raise ValueError("--durations balances shards: give --shard K/N too")
        return list(props), None
    timings = durations_of(durations) if durations else None
    mine = set(share([p.name for p in props], *shard, timings))
    return [p for p in props if p.name in mine], digest(timings)


def check_complete(shards: list, names: list, what: str) -> None:
    """``shards``: the ``(K, N)`` of each file in ``names``; ``ValueError`` naming the file where
    one is of another N or given twice, or naming the shards missing from the run."""
    count, seen = shards[0][1], {}
    for (index, n), name in zip(shards, names):
        if n != count:
            raise ValueError(f"{name}: shard {index}/{n}, but {names[0]} is one of {count}")
        if index in seen:
            raise ValueError(f"{name}: shard {index}/{count} again (also {seen[index]})")
        seen[index] = name
    missing = sorted(set(range(1, count + 1)) - set(seen))
    if missing:
        raise ValueError(f"shard(s) {', '.join(f'{k}/{count}' for k in missing)} missing: give every shard's {what}")
