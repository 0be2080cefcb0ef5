"""The mutant and trusted corpora, as file lists (shared by the tests and the report)."""

import glob
import importlib.util
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def mutants():
    return sorted(glob.glob(os.path.join(HERE, "mutants", "m*.py")))


def caught_by() -> dict:
    """``{mutant: the property that catches it first}`` from ``mutants/caught_by.txt``."""
    out = {}
    with open(os.path.join(HERE, "mutants", "caught_by.txt")) as f:
        for line in f:
            if line.strip() and not line.lstrip().startswith("#"):
                mutant, _, prop = line.partition("::")
                out[mutant.strip()] = prop.strip()
    return out


def trusted():
    """Trusted implementations whose libraries are importable here."""
    files = sorted(glob.glob(os.path.join(HERE, "trusted", "*.py")))
    return [f for f in files if not os.path.basename(f).startswith("torch") or importlib.util.find_spec("torch")]


def known_deviations() -> list:
    """The entries of ``trusted/known_deviations.txt`` (conformance.KnownDeviation)."""
    from convspec._frontends.conformance import known_deviations as read

    return read(os.path.join(HERE, "trusted", "known_deviations.txt"))


RUN_SNIPPETS = """
import json, sys, traceback
out = []
for source in json.load(sys.stdin):
    try:
        exec(compile(source, "<reproduction>", "exec"), {"__name__": "__main__"})
        out.append(None)
    except BaseException as e:
        out.append(type(e).__name__ + ": " + str(e)[:300])
print("SNIPPETS " + json.dumps(out))
"""


def run_snippets(sources, folder) -> list:
    """Run each reproduction as a script in one fresh interpreter whose working folder is
    ``folder``: ``None`` for one that ran through, else its exception as text."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    p = subprocess.run([sys.executable, "-P", "-c", RUN_SNIPPETS], input=json.dumps(sources), capture_output=True,
                       text=True, cwd=folder, env=env, timeout=600)
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("SNIPPETS ")), None)
    assert line is not None, f"the reproductions did not run: {p.stderr[-2000:]}"
    return json.loads(line[len("SNIPPETS "):])
