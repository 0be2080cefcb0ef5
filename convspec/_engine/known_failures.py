"""Known failures and skips kept as data (docs/tutorial.md, known failures).

A file holds one entry per line; ``#`` starts a comment, and a comment on an entry's line is
its reason::

    # properties to skip or to expect to fail
    conv_special_values                 # any backend: NaN handling is not ours
    mylayer::conv_grad_*                # only for the backend labelled mylayer (a glob)
    TestMyConv::test_conv_large[float64-2d]   # pytest: a class and one parametrized case

An entry is ``[WHO::]WHAT``.  ``WHAT`` is a glob over the property's name; in pytest it may
also name the test (``test_conv_large``) with its case (``[float64-2d]``).  ``WHO`` narrows it
to one backend: the label the command line shows, or in pytest the test class or module.
Entries that match nothing are reported, so a renamed property or a fixed bug does not hide
a stale line.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Entry:
    what: str
    who: str | None
    reason: str
    source: str  # "FILE:LINE"

    def matches(self, prop: str, who: tuple[str, ...] = (), case: str | None = None) -> bool:
        """Whether this entry names property ``prop`` (for the case id ``case``) of a backend or
        test known by any of the names ``who``."""
        if self.who is not None and not any(fnmatch.fnmatchcase(w, self.who) for w in who):
            return False
        names = [prop, f"test_{prop}"]
        if case is not None:
            names += [f"{prop}[{case}]", f"test_{prop}[{case}]"]
        pattern = self.what.replace("[", "[[]")  # brackets name a case, they are not a character class
        return any(fnmatch.fnmatchcase(n, pattern) for n in names)

    def __str__(self):
        return (f"{self.who}::" if self.who else "") + self.what


def parse(text: str, source: str = "<text>") -> list[Entry]:
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        body, _, reason = line.partition("#")
        body = body.strip()
        if not body:
            continue
        if " " in body or "\t" in body:
            raise ValueError(f"{source}:{number}: {body!r}, but should be one entry per line ([WHO::]PROPERTY)")
        who, sep, what = body.rpartition("::")
        if sep and "::" in who:  # pytest node ids: keep the last part before the test as WHO
            who = who.rsplit("::", 1)[-1]
        entries.append(Entry(what, who if sep else None, reason.strip(), f"{source}:{number}"))
    return entries


def read(path: str, flag: str = "FILE") -> list[Entry]:
    """The entries of the file ``path``; ``flag`` names the option in errors."""
    if not os.path.isfile(path):
        raise ValueError(f"{flag} {path!r} does not exist, but should be a file of known failures")
    with open(path, encoding="utf-8") as f:
        return parse(f.read(), path)


def first_match(entries, prop: str, who=(), case=None) -> Entry | None:
    return next((e for e in entries if e.matches(prop, tuple(who), case)), None)


def unused(entries, used) -> list[str]:
    """Warnings for entries that matched nothing (``used``: the entries that did)."""
    return [f"{e.source}: {str(e)!r} matches no property that ran" for e in entries if e not in used]


def apply_xfails(results, entries, *, strict=True):
    """Results with the listed failures marked ``xfailed``, and the entries that matched.

    A listed property that passes is a failure when ``strict`` (the entry is stale: the bug
    is fixed, or the list names the wrong thing), else it stays passed with a note."""
    out, used = [], set()
    for r in results:
        entry = first_match(entries, r.property, (r.backend,))
        if entry is None or r.status == "skipped":
            out.append(r)
            continue
        used.add(entry)
        why = f"listed as a known failure ({entry.source}{': ' + entry.reason if entry.reason else ''})"
        if r.status in ("failed", "error"):
            out.append(replace(r, status="xfailed", message=f"[{why}] {r.message}"))
        elif strict:
            out.append(replace(r, status="failed", message=f"passed, but is {why}; remove the entry, or pass "
                                                           "--no-strict-xfails to allow it"))
        else:
            out.append(replace(r, message=f"passed, though {why}"))
    return out, used
