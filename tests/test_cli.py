"""The command line from outside, as a user runs it: exit codes, table, JSON, reproductions."""

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from convspec._catalogue import CONCEPTS

from corpus import mutants

HERE = os.path.dirname(os.path.abspath(__file__))


def convspec(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "convspec", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=600)


def test_list_json_covers_every_concept(tmp_path):
    out = convspec("list", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    listing = json.loads(out.stdout)
    assert {"naive", "im2col", "fft", "numba"} <= set(listing["backends"])
    for p in listing["properties"]:
        assert set(p) >= {"name", "op", "concepts", "statement"} and p["statement"]
    covered = {c for p in listing["properties"] for c in p["concepts"]}
    assert not set(CONCEPTS) - covered, f"uncovered concepts: {set(CONCEPTS) - covered}"
    names = [p["name"] for p in listing["properties"]]
    assert len(names) == len(set(names))


def test_check_passes_and_writes_json(tmp_path):
    out = convspec("check", "naive", "--profile", "quick", "--seed", "1", "--json", str(tmp_path / "r.json"),
                   "--only", "conv_definition", "correlate_definition", "conv_declared_capabilities", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    # the short output: no table of passes; the skip summarised by its reason
    assert "conv_definition" not in out.stdout and "1  backend declares every dtype" in out.stdout, out.stdout
    assert "2 passed, 0 failed, 0 errors, 1 skipped" in out.stdout
    full = convspec("check", "naive", "--profile", "quick", "--seed", "1", "-v", "--only", "conv_definition",
                    "conv_declared_capabilities", cwd=tmp_path)
    assert re.search(r"conv_definition +pass", full.stdout) and re.search(r"conv_declared_capabilities +skip", full.stdout)
    payload = json.loads((tmp_path / "r.json").read_text())
    assert payload["schema"] == 2 and payload["summary"] == {"passed": 2, "failed": 0, "error": 0, "skipped": 1,
                                                             "xfailed": 0}
    assert payload["exit_status"] == 0 and payload["duration"] > 0 and payload["environment"]["numpy"]
    statuses = {r["property"]: r["status"] for r in payload["results"]}
    assert statuses == {"conv_definition": "passed", "correlate_definition": "passed", "conv_declared_capabilities": "skipped"}
    for r in payload["results"]:
        assert set(r) >= {"backend", "property", "concepts", "status", "message", "counterexample"}


def test_failure_exits_1_with_a_runnable_reproduction(tmp_path):
    mutant = [m for m in mutants() if "kernel_not_flipped" in m][0]
    out = convspec("check", mutant, "--seed", "2", "--only", "convolve_definition", "--json", str(tmp_path / "r.json"),
                   cwd=tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "FAIL" in out.stdout and "but should be" in out.stdout
    repro = json.loads((tmp_path / "r.json").read_text())["results"][0]["counterexample"]["reproduction"]
    assert repr(mutant) in repro  # by absolute path: it runs from any folder
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = subprocess.run([sys.executable, "-c", repro], capture_output=True, text=True, cwd=elsewhere, timeout=120)
    assert run.returncode == 1 and "AssertionError: convolve(" in run.stderr, run.stderr
    assert "what came back:" in run.stdout and "the definition:" in run.stdout  # both shown, then the assertion


@pytest.mark.parametrize("target, why", [
    ("no/such/file.py", "does not exist"),
    ("no_such_module_xyz", "failed to import"),
    ("naive:nothing", "TARGET"),
    ("$$$", "TARGET="),
])
def test_load_errors_exit_2(tmp_path, target, why):
    out = convspec("check", target, cwd=tmp_path)
    assert out.returncode == 2
    assert why in out.stderr


def test_file_without_contract_functions_exits_2(tmp_path):
    (tmp_path / "empty.py").write_text("x = 1\n")
    out = convspec("check", str(tmp_path / "empty.py"), cwd=tmp_path)
    assert out.returncode == 2 and "none of the contract functions" in out.stderr


def test_misspelled_names_get_a_suggestion(tmp_path):
    out = convspec("check", "im2cl", cwd=tmp_path)
    assert out.returncode == 2 and "did you mean 'im2col'" in out.stderr, out.stderr
    out = convspec("check", "naive", "--only", "conv_definiton", cwd=tmp_path)
    assert out.returncode == 2 and "did you mean 'conv_definition'" in out.stderr, out.stderr
    assert len(out.stderr) < 400  # a suggestion, not the whole catalogue


def test_usage_error_exits_2(tmp_path):
    assert convspec("check", cwd=tmp_path).returncode == 2
    assert convspec("check", "naive", "--profile", "nope", cwd=tmp_path).returncode == 2
    assert convspec("check", "naive", "--only", "no_such_property", cwd=tmp_path).returncode == 2


def test_hang_and_crash_are_reported_per_property(tmp_path):
    (tmp_path / "bad.py").write_text(textwrap.dedent("""
        import os, time
        from convspec._contract import reference
        def correlate(x, w, *, mode):
            if x.size > 3:
                time.sleep(1000)
            return reference.correlate(x, w, mode=mode).astype(x.dtype)
        def convolve(x, w, *, mode):
            if x.size > 3:
                os._exit(3)
            return reference.convolve(x, w, mode=mode).astype(x.dtype)
    """))
    out = convspec("check", str(tmp_path / "bad.py"), "--only", "correlate_definition", "convolve_definition",
                   "convolve_shape_full", "--call-timeout", "2", "--property-timeout", "60", "--seed", "1", cwd=tmp_path)
    assert out.returncode == 1
    assert "took longer than the per-call limit" in out.stdout
    assert "exited with status 3 during this call" in out.stdout
    assert "convolve(x=float" in out.stdout  # the crash names the call and its arguments
    assert out.stdout.count("ERROR") == 3  # the run went on after the crash


def test_file_target_with_attribute_and_class(tmp_path):
    (tmp_path / "cls.py").write_text(textwrap.dedent("""
        from convspec._contract import reference
        class MyConv:
            convspec_capabilities = {"accuracy": "direct", "ndims": [1]}
            def correlate(self, x, w, *, mode):
                if x.ndim != 1:
                    raise ValueError("x.ndim must be 1")
                return reference.correlate(x, w, mode=mode).astype(x.dtype)
    """))
    out = convspec("check", f"{tmp_path / 'cls.py'}:MyConv", "--profile", "quick", "--seed", "3", "-v", cwd=tmp_path)
    assert out.returncode == 0, out.stdout
    assert "correlate_declared_capabilities" in out.stdout


def test_entry_point_backend(tmp_path):
    (tmp_path / "ep_backend.py").write_text("from convspec.impls.im2col import conv, correlate, convolve\n")
    dist = tmp_path / "ep_backend-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ep-backend\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[convspec.backends]\nmine = ep_backend\n")
    env = {"PYTHONPATH": str(tmp_path)}
    assert "mine" in json.loads(convspec("list", "--json", cwd=tmp_path, env=env).stdout)["backends"]
    out = convspec("check", "mine", "--only", "conv_definition", "--profile", "quick", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stdout + out.stderr


#: The environment of a pytest run of properties/ started by these tests: every case on the
#: given backend (the quick tests' own selection, CONVSPEC_TESTS=quick, is not for it).
FULL = {**os.environ, "CONVSPEC_TESTS": "full"}


def test_pytest_route_runs_under_xdist():
    """pytest-xdist spreads the in-process route over workers: same ids, same verdicts."""
    pytest.importorskip("xdist")
    root = os.path.dirname(HERE)
    target = os.path.join(HERE, "trusted", "numpy_convolve.py")
    out = subprocess.run([sys.executable, "-m", "pytest", os.path.join(root, "properties", "test_signal.py"), "--backend", target,
                          "-n", "2", "-k", "definition and float32", "-p", "no:cacheprovider", "-v"],
                         capture_output=True, text=True, cwd=root, timeout=600, env=FULL)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    for worker in ("gw0", "gw1"):  # both workers ran cases
        assert re.search(rf"\[{worker}\] \[ *\d+%\] PASSED", out.stdout), out.stdout[-2000:]
    assert "test_correlate_definition[numpy_convolve.py-float32-1d-full]" in out.stdout


def test_pytest_plugin_options_are_namespaced(tmp_path):
    """In a user's project the plugin adds only --convspec-* options (no generic --backend)."""
    out = subprocess.run([sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"], capture_output=True,
                         text=True, cwd=tmp_path, timeout=120)
    assert "--convspec-backend" in out.stdout and "--convspec-profile" in out.stdout
    assert not re.search(r"^\s+--backend\b", out.stdout, re.M), "a generic --backend leaks into every pytest session"


def test_pytest_properties_with_a_backend_option():
    root = os.path.dirname(HERE)
    target = os.path.join(HERE, "trusted", "numpy_convolve.py")
    out = subprocess.run([sys.executable, "-m", "pytest", os.path.join(root, "properties", "test_signal.py"), "--backend", target,
                          "-v", "-k", "definition", "-p", "no:cacheprovider"], capture_output=True, text=True, cwd=root,
                         timeout=600, env=FULL)
    assert out.returncode == 0, out.stdout[-2000:]
    assert "test_correlate_definition[numpy_convolve.py-float32-1d-full] PASSED" in out.stdout
    assert "test_correlate_definition[numpy_convolve.py-float32-2d-full] SKIPPED" in out.stdout


def test_failures_are_grouped_by_root_cause(tmp_path):
    """One padding bug, three properties: one group led by the definition, counts unchanged."""
    mutant = [m for m in mutants() if "padding_swapped" in m][0]
    out = convspec("check", mutant, "--seed", "0", "--only", "conv_zero_padding", "conv_definition",
                   "conv_translation_equivariance", "--examples-db", "off", cwd=tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "0 passed, 3 failed" in out.stdout
    assert out.stdout.count("=== ") == 1, out.stdout
    assert "conv disagrees with the definition (3 properties)" in out.stdout
    assert "--- conv_definition (failed)" in out.stdout  # the definition leads the group
    assert "2 more properties failed on a call that already disagrees" in out.stdout


def test_known_failures_and_skips_as_files(tmp_path):
    mutant = [m for m in mutants() if "padding_swapped" in m][0]
    label = os.path.splitext(os.path.basename(mutant))[0]
    (tmp_path / "xfails.txt").write_text(f"# known\n{label}::conv_*   # the padding bug\nno_such_property\n")
    (tmp_path / "skips.txt").write_text("conv_zero_padding  # slow here\n")
    args = ["check", mutant, "--seed", "0", "--only", "conv_zero_padding", "conv_definition", "conv_translation_equivariance",
            "--examples-db", "off", "--skips", "skips.txt", "--json", "r.json"]
    out = convspec(*args, "--xfails", "xfails.txt", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 passed, 0 failed, 0 errors, 1 skipped, 2 known failures" in out.stdout
    assert "xfails.txt:3: 'no_such_property' matches no property" in out.stderr  # a stale entry is reported
    results = {r["property"]: r for r in json.loads((tmp_path / "r.json").read_text())["results"]}
    assert results["conv_zero_padding"]["status"] == "skipped" and "skips.txt:1: slow here" in results["conv_zero_padding"]["message"]
    assert results["conv_definition"]["status"] == "xfailed" and "the padding bug" in results["conv_definition"]["message"]
    # strict by default: a listed failure that passes fails the run
    (tmp_path / "any.txt").write_text("conv_definition\n")
    out = convspec("check", "naive", "--seed", "0", "--only", "conv_definition", "--xfails", "any.txt",
                   "--examples-db", "off", cwd=tmp_path)
    assert out.returncode == 1 and "remove the entry" in out.stdout, out.stdout
    out = convspec("check", "naive", "--seed", "0", "--only", "conv_definition", "--xfails", "any.txt",
                   "--no-strict-xfails", "--examples-db", "off", cwd=tmp_path)
    assert out.returncode == 0, out.stdout
    out = convspec("check", "naive", "--xfails", "missing.txt", cwd=tmp_path)
    assert out.returncode == 2 and "--xfails 'missing.txt' does not exist" in out.stderr


def test_declined_examples_are_counted_never_passed(tmp_path):
    """Examples a declared restriction excludes are declined: the property passes on the others
    with the share shown; one whose every example was declined is skipped with the reason; a
    wrong answer on an accepted example still fails; convspec.Unsupported for an example no
    declared restriction excludes fails (a backend cannot decline what it declares it supports)."""
    (tmp_path / "oddonly.py").write_text(textwrap.dedent("""
        import numpy as np
        import scipy.signal
        import convspec

        convspec_capabilities = {"ndims": [1], "accuracy": "direct", "restrictions": ["odd_kernels"]}

        def correlate(x, w, *, mode):
            if w.shape[0] % 2 == 0:
                raise convspec.Unsupported("odd kernels only")
            return scipy.signal.correlate(x, w, mode=mode, method="direct")
    """))
    (tmp_path / "nocount.py").write_text(textwrap.dedent("""
        from convspec.impls import naive

        convspec_capabilities = {"ndims": [1], "ops": ["avg_pool"], "restrictions": ["no_count_padding"]}

        def avg_pool(x, *, count_padding=False, **kw):
            if count_padding:
                raise NotImplementedError("count_padding")
            return naive.avg_pool(x, **kw)
    """))
    (tmp_path / "undeclared.py").write_text("import convspec\nconvspec_capabilities = {'ndims': [1]}\n"
                                            "def correlate(x, w, *, mode):\n    raise convspec.Unsupported('not today')\n")
    (tmp_path / "wrong.py").write_text("import numpy as np\nimport convspec\n"
                                       "convspec_capabilities = {'ndims': [1], 'restrictions': ['odd_kernels']}\n"
                                       "def correlate(x, w, *, mode):\n"
                                       "    if w.shape[0] % 2 == 0:\n        raise convspec.Unsupported('odd only')\n"
                                       "    return np.correlate(x, w, mode) * 2\n")
    only = ["--only", "correlate_definition", "correlate_impulse_response", "correlate_declared_restrictions",
            "avg_pool_is_box_convolution", "avg_pool_declared_restrictions"]
    out = convspec("check", "oddonly.py", "nocount.py", "--seed", "1", "--examples-db", "off", "--json", "r.json",
                   *only, cwd=tmp_path)
    results = {(r["backend"], r["property"]): r for r in json.loads((tmp_path / "r.json").read_text())["results"]}
    odd = results[("oddonly", "correlate_definition")]
    assert odd["status"] == "passed" and odd["declined"] > 0 and "examples declined: declared odd_kernels" in odd["message"]
    assert results[("oddonly", "correlate_declared_restrictions")]["status"] == "passed"
    never = results[("nocount", "avg_pool_is_box_convolution")]
    assert never["status"] == "skipped" and "declined every example" in never["message"] \
        and "no_count_padding" in never["message"], never
    assert results[("nocount", "avg_pool_declared_restrictions")]["status"] == "passed"
    assert "passed with examples declined" in out.stdout
    assert out.returncode == 0, out.stdout + out.stderr
    wrong = convspec("check", "wrong.py", "--seed", "1", "--examples-db", "off", *only, cwd=tmp_path)
    assert wrong.returncode == 1 and "correlate disagrees with the definition" in wrong.stdout, wrong.stdout
    undeclared = convspec("check", "undeclared.py", "--seed", "1", "--examples-db", "off", *only, cwd=tmp_path)
    assert undeclared.returncode == 1 and "raised convspec.Unsupported('not today'), but no restriction declared " \
        "for correlate excludes this example" in undeclared.stdout, undeclared.stdout


def test_a_hanging_call_is_reported_with_its_arguments_and_a_snippet_that_ends(tmp_path):
    (tmp_path / "hang.py").write_text(textwrap.dedent("""
        import time
        from convspec.impls import naive

        convspec_capabilities = {"ndims": [1], "ops": ["conv"]}

        def conv(x, w, **kw):
            if x.shape[-1] > 3:
                while True:
                    time.sleep(0.05)
            return naive.conv(x, w, **kw)
    """))
    out = convspec("check", "hang.py", "--only", "conv_definition", "--call-timeout", "2", "--seed", "0",
                   "--examples-db", "off", "--json", "r.json", cwd=tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    result = json.loads((tmp_path / "r.json").read_text())["results"][0]
    assert result["status"] == "error" and re.match(r"conv\(x=float\d\d\[1, \d+, \d+\], w=", result["message"])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = subprocess.run([sys.executable, "-c", result["counterexample"]["reproduction"]], capture_output=True,
                         text=True, cwd=elsewhere, timeout=60)
    assert run.returncode == -14, run.stderr  # SIGALRM: the snippet ends itself, it does not hang


def test_shards_merge_into_the_unsharded_verdict(tmp_path):
    """Two shards of one seed hold every property once; merged they give the unsharded run's
    verdicts and exit status (here a mutant caught by convolve_definition)."""
    mutant = os.path.join(HERE, "mutants", "m01_kernel_not_flipped.py")
    only = ["--only", "correlate_definition", "convolve_definition", "conv_definition", "correlate_linearity"]
    common = [mutant, *only, "--profile", "quick", "--seed", "7"]
    whole = convspec("check", *common, "--json", str(tmp_path / "whole.json"), cwd=tmp_path)
    parts = [convspec("check", *common, "--shard", f"{k}/2", "--json", str(tmp_path / f"s{k}.json"), cwd=tmp_path)
             for k in (1, 2)]
    assert whole.returncode == 1 and "shard 1/2: 2 properties" in parts[0].stdout, parts[0].stdout
    merged = convspec("merge", str(tmp_path / "s1.json"), str(tmp_path / "s2.json"), "--json",
                      str(tmp_path / "merged.json"), cwd=tmp_path)
    assert merged.returncode == 1 and "merged 2 shards" in merged.stdout, merged.stdout + merged.stderr
    verdict = lambda path: sorted((r["property"], r["status"]) for r in json.loads(path.read_text())["results"])  # noqa: E731
    assert verdict(tmp_path / "merged.json") == verdict(tmp_path / "whole.json")
    assert ("convolve_definition", "failed") in verdict(tmp_path / "merged.json")
    assert json.loads((tmp_path / "merged.json").read_text())["exit_status"] == 1
    # a missing shard, a doubled one, another seed: refused, naming what is wrong
    alone = convspec("merge", str(tmp_path / "s1.json"), cwd=tmp_path)
    assert alone.returncode == 2 and "2/2 missing" in alone.stderr, alone.stderr
    twice = convspec("merge", str(tmp_path / "s1.json"), str(tmp_path / "s1.json"), cwd=tmp_path)
    assert twice.returncode == 2 and "again" in twice.stderr, twice.stderr
    other = convspec("check", *common[:-1], "8", "--shard", "2/2", "--json", str(tmp_path / "o2.json"), cwd=tmp_path)
    assert other.returncode in (0, 1)
    mixed = convspec("merge", str(tmp_path / "s1.json"), str(tmp_path / "o2.json"), cwd=tmp_path)
    assert mixed.returncode == 2 and "seed=8" in mixed.stderr, mixed.stderr
    bad = convspec("check", mutant, "--shard", "3/2", cwd=tmp_path)
    assert bad.returncode == 2 and "--shard" in bad.stderr, bad.stderr
    # balanced by the whole run's timings: other cuts, the same verdicts; every shard must be cut alike
    timed = [convspec("check", *common, "--shard", f"{k}/2", "--durations", str(tmp_path / "whole.json"), "--json",
                      str(tmp_path / f"t{k}.json"), cwd=tmp_path) for k in (1, 2)]
    assert all(t.returncode in (0, 1) for t in timed), timed[0].stderr + timed[1].stderr
    balanced = convspec("merge", str(tmp_path / "t1.json"), str(tmp_path / "t2.json"), "--json",
                        str(tmp_path / "balanced.json"), cwd=tmp_path)
    assert balanced.returncode == 1 and verdict(tmp_path / "balanced.json") == verdict(tmp_path / "whole.json")
    unlike = convspec("merge", str(tmp_path / "s1.json"), str(tmp_path / "t2.json"), cwd=tmp_path)
    assert unlike.returncode == 2 and "balanced_by" in unlike.stderr, unlike.stderr
    alone = convspec("check", mutant, "--durations", str(tmp_path / "whole.json"), cwd=tmp_path)
    assert alone.returncode == 2 and "--shard" in alone.stderr, alone.stderr
    unreadable = convspec("check", mutant, "--shard", "1/2", "--durations", str(tmp_path / "none.json"), cwd=tmp_path)
    assert unreadable.returncode == 2 and "--durations" in unreadable.stderr, unreadable.stderr
