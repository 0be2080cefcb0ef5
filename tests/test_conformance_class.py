"""A user's test suite inheriting the whole catalogue (the pandas extension-test style).

These few lines are all a user writes; every property becomes a test here, skipped where
it does not apply (numpy.convolve is 1-D, signal level only).
"""

import os

from convspec import Conformance

HERE = os.path.dirname(os.path.abspath(__file__))


class TestNumpyConvolve(Conformance):
    backend = os.path.join(HERE, "trusted", "numpy_convolve.py")
    profile = "quick"


def test_two_backends_in_one_session_with_known_failures(tmp_path):
    """A user's project: a correct and a wrong backend in one session, the wrong one's known
    failures listed on its own class and in a file; the user's own ``impls`` package beside."""
    import subprocess
    import sys
    import textwrap

    mutant = os.path.join(HERE, "mutants", "m04_padding_swapped.py")
    (tmp_path / "impls").mkdir()
    (tmp_path / "impls" / "__init__.py").write_text("raise ImportError('the user project own impls package')\n")
    (tmp_path / "test_mine.py").write_text(textwrap.dedent(f"""
        from convspec import Conformance

        class TestRight(Conformance):
            backend = "naive"
            profile = "quick"

        class TestWrong(Conformance):
            backend = {mutant!r}
            profile = "quick"
            xfails = {{"conv_definition": "padding swapped, issue 12", "conv_zero_padding[float32-*]": ""}}
    """))
    (tmp_path / "known.txt").write_text("TestWrong::test_conv_zero_padding[float64-*]  # in the file\n"
                                        "TestGone::conv_definition  # stale\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rxs", "test_mine.py",
                          "-k", "test_conv_definition or test_conv_zero_padding", "--convspec-xfails", "known.txt"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    import re

    assert re.search(r"12 passed, \d+ deselected, 12 xfailed", out.splitlines()[-1]), out
    assert "padding swapped, issue 12" in out and "in the file" in out
    assert "TestGone::conv_definition" in out and "matched no test" in out  # the stale entry is reported
    right = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_mine.py",
                            "-k", "TestRight and test_conv_definition"], cwd=tmp_path, capture_output=True, text=True,
                           timeout=600)
    assert right.returncode == 0 and "xpass" not in right.stdout.lower(), right.stdout
