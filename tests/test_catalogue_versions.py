"""The catalogue is versioned (CHANGELOG.md): a run pinned to a catalogue version runs exactly
that version's properties, the JSON records the version, and the changelog names every
property a version added or changed."""

import json
import os
import re
import subprocess
import sys

import pytest

from convspec._catalogue import CATALOGUE, VERSIONS, in_version, select
from convspec._catalogue.property import Property

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def convspec(*args, cwd):
    return subprocess.run([sys.executable, "-m", "convspec", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=1200)


def _section(version: str) -> str:
    text = open(os.path.join(ROOT, "CHANGELOG.md")).read()
    found = re.search(rf"^## {re.escape(version)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert found, f"CHANGELOG.md has no section '## {version}'"
    return found.group(1)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_changelog_names_what_each_version_added_and_changed(version):
    section = _section(version)
    if version == VERSIONS[0]:
        return  # the first catalogue: every property then
    added = re.search(r"### Properties added\n(.*?)(?=^### |\Z)", section, re.S | re.M).group(1)
    changed = re.search(r"### Properties changed\n(.*?)(?=^### |\Z)", section, re.S | re.M).group(1)
    for p in CATALOGUE:
        if p.added == version:
            assert f"`{p.name}`" in added, f"CHANGELOG.md ## {version} should list `{p.name}` under Properties added"
        for v, what in p.changed:
            if v == version:
                assert f"`{p.name}`" in changed, f"CHANGELOG.md ## {version} should list `{p.name}` under Properties changed"


def test_a_version_holds_what_was_added_by_then_and_not_changed_since():
    def made(added, changed=()):
        return Property("x", "conv", (), "", None, added=added, changed=changed)

    assert in_version(made("0.1.0"), "0.1.0") and in_version(made("0.1.0"), "0.2.0")
    assert not in_version(made("0.2.0"), "0.1.0") and in_version(made("0.2.0"), "0.2.0")
    assert not in_version(made("0.1.0", (("0.2.0", "draws more"),)), "0.1.0")
    assert select(VERSIONS[-1]) == select() == CATALOGUE
    with pytest.raises(ValueError, match="catalogue version '9.9.9'"):
        select("9.9.9")


ONE_FUNCTION = """import numpy as np
from convspec import reference

def correlate(x, w, *, mode):
    return reference.correlate(x, w, mode=mode).astype(x.dtype)
"""


def _pinned_check(target, tmp_path):
    listed = convspec("list", "--catalogue-version", "0.1.0", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    names = [p["name"] for p in json.loads(listed.stdout)["properties"]]
    assert names == [p.name for p in select("0.1.0")]
    out = convspec("check", target, "--catalogue-version", "0.1.0", "--profile", "quick", "--max-examples", "1",
                   "--seed", "3", "--json", str(tmp_path / "r.json"), "-q", cwd=tmp_path)
    payload = json.loads((tmp_path / "r.json").read_text())
    assert payload["catalogue_version"] == "0.1.0"
    assert [r["property"] for r in payload["results"]] == names
    assert out.returncode == 0, out.stdout[-2000:]


@pytest.mark.full_only
def test_a_pinned_check_runs_exactly_the_pinned_catalogue(tmp_path):
    _pinned_check("naive", tmp_path)


@pytest.mark.quick_only
def test_a_pinned_check_runs_exactly_the_pinned_catalogue_quickly(tmp_path):
    """The same on a backend with one function: every property is listed, most of them skipped."""
    (tmp_path / "one.py").write_text(ONE_FUNCTION)
    _pinned_check("one.py", tmp_path)


def test_a_version_that_does_not_exist_is_a_usage_error(tmp_path):
    out = convspec("check", "naive", "--catalogue-version", "0.0.9", cwd=tmp_path)
    assert out.returncode == 2 and "--catalogue-version" in out.stderr and "0.1.0" in out.stderr


def test_a_property_outside_the_pinned_catalogue_is_skipped_in_pytest():
    from convspec._frontends import testing

    newer = Property("added_later", "conv", (), "", lambda ctx: None, added=VERSIONS[-1])
    with pytest.raises(pytest.skip.Exception, match=f"not in the pinned catalogue {VERSIONS[0]}"):
        testing.run_case(newer, "naive", {}, profile="quick", catalogue=VERSIONS[0])
