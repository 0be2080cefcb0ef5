"""The mutant and trusted corpora, as file lists (shared by the tests and the report)."""

import glob
import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def mutants():
    return sorted(glob.glob(os.path.join(HERE, "mutants", "m*.py")))


def trusted():
    """Trusted implementations whose libraries are importable here."""
    files = sorted(glob.glob(os.path.join(HERE, "trusted", "*.py")))
    return [f for f in files if not os.path.basename(f).startswith("torch") or importlib.util.find_spec("torch")]


def known_deviations() -> dict:
    """``{(backend, property): what the library does}`` from ``trusted/known_deviations.txt``."""
    from convspec.report import known_deviations as read

    return read(os.path.join(HERE, "trusted", "known_deviations.txt"))
