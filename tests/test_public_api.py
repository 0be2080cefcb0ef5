"""The public API is ``convspec.__all__``; everything else of the package is private, so it can
move between releases without breaking anyone."""

import os
import pkgutil
import subprocess
import sys

import convspec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_every_public_name_resolves():
    for name in convspec.__all__:
        assert getattr(convspec, name) is not None, name
    assert sorted(set(convspec.__all__)) == sorted(convspec.__all__)


def test_every_other_module_of_the_package_is_private():
    """In convspec/, every module but the package itself (and its __main__) has a leading
    underscore in its own name or a parent package's.  The bundled backends live apart, in
    the top-level impls/ folder (installed as convspec.impls)."""
    public = []
    for info in pkgutil.walk_packages([os.path.join(ROOT, "convspec")], prefix="convspec."):
        parts = info.name.split(".")[1:]
        if not any(p.startswith("_") for p in parts):
            public.append(info.name)
    assert not public, f"modules outside the public API should be private: {public}"


def test_the_command_line_runs_as_a_module(tmp_path):
    out = subprocess.run([sys.executable, "-P", "-m", "convspec", "--version"], capture_output=True, text=True,
                         cwd=tmp_path, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == f"convspec {convspec.__version__}", out.stdout + out.stderr


def test_a_reproduction_uses_the_public_api_only():
    """What a user copies (reproductions) names only public names of convspec."""
    import re

    import numpy as np

    from convspec._engine.reproduction import reproduction
    from convspec._catalogue.property import Call

    x = np.arange(4.0, dtype=np.float32)[::2]
    calls = [Call("correlate", (x, x), {"mode": "full"}, ("strided", None), result=x)]
    text = reproduction("naive", "correlate_definition", calls, "message", deviating=0,
                        example="[('ndim', 1)]")
    used = set(re.findall(r"convspec\.(\w+)", text)) | set(re.findall(r"from convspec import (\w+)", text))
    assert used and used <= set(convspec.__all__), used - set(convspec.__all__)
