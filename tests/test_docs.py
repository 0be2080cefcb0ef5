"""The README's catalogue table and adapter example stay true."""

import os
import re
import subprocess
import sys

from convspec._frontends.cli import catalogue_markdown

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _readme():
    with open(os.path.join(ROOT, "README.md")) as f:
        return f.read()


def test_readme_catalogue_matches_the_catalogue():
    assert catalogue_markdown() in _readme(), "README's catalogue is stale: regenerate with `convspec list --markdown`"


def test_readme_adapter_example_passes(tmp_path):
    code = re.search(r"```python\n(# myconv.py\n.*?)```", _readme(), re.S).group(1)
    assert len(code.strip().splitlines()) <= 11  # the adapter stays about ten lines
    (tmp_path / "myconv.py").write_text(code)
    out = subprocess.run([sys.executable, "-m", "convspec", "check", "myconv.py", "--profile", "quick", "--seed", "0"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
