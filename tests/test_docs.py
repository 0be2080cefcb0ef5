"""The documentation: it builds strictly, its catalogue pages name every property, and the
README stays short and its adapter example true."""

import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _readme():
    with open(os.path.join(ROOT, "README.md")) as f:
        return f.read()


def test_readme_is_short():
    assert len(_readme().splitlines()) <= 200, "the README says what a visitor needs first; the rest is in docs/"


def test_readme_adapter_example_passes(tmp_path):
    code = re.search(r"```python\n(# myconv.py\n.*?)```", _readme(), re.S).group(1)
    assert len(code.strip().splitlines()) <= 11  # the adapter stays about ten lines
    (tmp_path / "myconv.py").write_text(code)
    out = subprocess.run([sys.executable, "-m", "convspec", "check", "myconv.py", "--profile", "quick", "--seed", "0"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_documentation_builds_strictly_with_every_property_in_the_catalogue(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    out = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                          os.path.join(ROOT, "docs"), str(tmp_path / "html")],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, f"the documentation does not build strictly:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    listed = subprocess.run([sys.executable, "-m", "convspec", "list", "--json"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=300)
    names = [p["name"] for p in json.loads(listed.stdout)["properties"]]
    page = (tmp_path / "html" / "reference" / "catalogue.html").read_text()
    # each property has its own entry (an anchor and its name as the heading), not only a mention
    missing = [n for n in names if f'id="property-{n.replace("_", "-")}"' not in page
               or not re.search(rf'<span class="pre">{re.escape(n)}</span>', page)]
    assert not missing, f"properties missing from the built catalogue page: {missing[:10]}"
