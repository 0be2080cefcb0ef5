"""The verifier verified: every mutant is caught, no trusted implementation is flagged.

Both run as the command line runs them: the backend in its own executor process
(:class:`convspec.remote.RemoteBackend`), the properties and the verdict here."""

import os

import pytest

from convspec.catalogue import CATALOGUE
from convspec.remote import RemoteBackend
from convspec.runner import run_property

from corpus import mutants, trusted

SEED = 0


def _name(path):
    return os.path.splitext(os.path.basename(path))[0]


@pytest.mark.parametrize("path", mutants(), ids=_name)
def test_mutant_is_caught(path):
    with RemoteBackend(path) as backend:
        for prop in CATALOGUE:
            result = run_property(prop, backend, profile="default", seed=SEED)
            if result.status in ("failed", "error"):
                assert result.message  # caught, with a reason
                return
    pytest.fail(f"mutant {_name(path)} passed every property, but should be caught by the default profile")


def test_mutant_corpus_is_large_and_documented():
    files = mutants()
    assert len(files) >= 25, f"len(mutants)={len(files)}, but should be at least 25"
    for f in files:
        with RemoteBackend(f) as backend:
            doc = backend.doc
        assert doc and doc.strip(), f"mutant {_name(f)} has no docstring naming its bug"


@pytest.mark.parametrize("path", trusted(), ids=_name)
def test_trusted_implementation_passes(path):
    bad = []
    with RemoteBackend(path) as backend:
        for prop in CATALOGUE:
            result = run_property(prop, backend, profile="default", seed=SEED)
            if result.status in ("failed", "error"):
                bad.append(f"{prop.name}: {result.message}")
    assert not bad, "false alarms:\n" + "\n".join(bad)
