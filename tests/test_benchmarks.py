"""The benchmark suites (``pytest benchmarks``) as a smoke test: quick problems of three suites,
every bundled backend and peer checked and timed through the engine of ``convspec bench``, the
report written; and meta-tests of the performance targets' arithmetic on made-up boards.  No
performance is asserted here: timings are measured by ``bash scripts/bench.sh``."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import performance  # noqa: E402  (benchmarks/performance.py)

#: The environment of a pytest run started from this one: without the xdist worker's variables,
#: which make pytest-benchmark disable itself as if it ran under xdist.
CLEAN = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}


def test_quick_benchmarks_check_time_and_report(tmp_path):
    saved = tmp_path / "pytest-benchmark.json"
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "benchmarks", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "--suite", "resnet50", "--suite", "pooling", "--suite", "signals", "--bench-out", str(tmp_path),
         f"--benchmark-json={saved}"],
        cwd=ROOT, env=CLEAN, capture_output=True, text=True, timeout=900,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert " passed" in out.stdout and "failed" not in out.stdout, out.stdout[-2000:]
    assert "left" in out.stderr  # the progress lines, with the time left
    # pytest-benchmark's own record: one benchmark per (problem, target) timed, with the
    # side-by-side medians and ratios of the engine, readable by `pytest-benchmark compare`
    timings = json.loads(saved.read_text())["benchmarks"]
    names = {b["name"] for b in timings}
    assert "test_problem[resnet50:conv mb1ic16ih32oc16kh3ph1-auto]" in names, sorted(names)[:5]
    auto = next(b for b in timings if b["name"] == "test_problem[resnet50:conv mb1ic16ih32oc16kh3ph1-auto]")
    info = auto["extra_info"]
    assert info["problem"] == "conv mb1ic16ih32oc16kh3ph1" and "auto" in info["side_by_side_ms"]
    assert info["ratio"]["im2col"] == pytest.approx(info["side_by_side_ms"]["im2col"] / info["side_by_side_ms"]["auto"])
    assert auto["stats"]["rounds"] >= 4 and auto["group"] == "resnet50: conv mb1ic16ih32oc16kh3ph1"
    signal = next(b for b in timings if b["name"].startswith("test_problem[signals:") and b["name"].endswith("-auto]"))
    assert signal["extra_info"]["best_peer"] in signal["extra_info"]["side_by_side_ms"]  # SciPy/NumPy are peers
    compared = subprocess.run([os.path.join(os.path.dirname(sys.executable), "pytest-benchmark"), "compare",
                               str(saved)], capture_output=True, text=True, timeout=120)
    assert compared.returncode == 0 and "mb1ic16ih32oc16kh3ph1-auto" in compared.stdout, compared.stderr[-2000:]
    board = json.loads((tmp_path / "bench.json").read_text())
    assert set(board["suites"]) == {"resnet50", "pooling", "signals"}
    timed = {(r["problem"], r["method"]) for r in board["records"] if r["status"] == "timed"}
    for method in ("auto", "im2col", "winograd", "naive"):
        assert ("conv mb1ic16ih32oc16kh3ph1", method) in timed, method
    assert ("max_pool mb1ic16ih56kh3sh2ph1", "numba") in timed
    assert not [r for r in board["records"] if r["status"] in ("wrong", "error")]
    report = (tmp_path / "bench.md").read_text()
    assert "## resnet50" in report and "| best peer / auto |" in report


def test_a_wrong_backend_fails_its_benchmark(tmp_path):
    (tmp_path / "wrongconv.py").write_text(
        "import numpy as np\nfrom convspec import load_backend\n_b = load_backend('im2col')\n"
        "def conv(x, w, **kw):\n    y = _b.conv(x, w, **kw)\n    y.flat[0] += 1\n    return y\n")
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "benchmarks", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "--suite", "resnet50", "--bench-targets", str(tmp_path / "wrongconv.py"), "--bench-peers"],
        cwd=ROOT, env=CLEAN, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 1, out.stdout[-2000:]
    assert "3 failed" in out.stdout and "wrongconv: wrong: [0, 0, 0, 0]=" in out.stdout, out.stdout[-2000:]


def test_without_matplotlib_the_report_says_no_plot_was_written(tmp_path):
    hidden = tmp_path / "hide" / "matplotlib"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('matplotlib hidden for this test')\n")
    (tmp_path / "problems.txt").write_text("avg_pool mb1ic4ih8kh2sh2\n")
    out = subprocess.run([sys.executable, "-m", "convspec", "bench", "im2col", "--problems", str(tmp_path / "problems.txt"),
                          "--peers", "--quick", "-q", "--out", str(tmp_path / "out")], cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(tmp_path / "hide")}, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "no plots written" in out.stderr and "convspec[report]" in out.stderr, out.stderr[-2000:]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["bench.json", "bench.md"]


@pytest.mark.parametrize("name", ["onnxruntime", "openvino", "jax"])
def test_runtime_peers_agree_with_the_definition_before_they_are_timed(name):
    from convspec._bench.engine import PEERS, measure_problem, peer_available
    from convspec._bench.problems import parse
    from convspec._engine.backend import load_backend

    if peer_available(name):
        pytest.skip(peer_available(name))
    peer = load_backend(PEERS[name][0])
    for line in ("conv mb1ic8ih12oc8kh3ph1", "conv mb2ic8ih12oc8kh3sh2ph1g8", "max_pool mb1ic4ih12kh3sh2ph1",
                 "avg_pool mb1ic4ih12kh2sh2"):
        (record,) = measure_problem({name: peer}, parse(line), rounds=1, budget=0.001)
        assert record["status"] == "timed", record


def _board(times, suites):
    """A board with the given ``{(line, method): median}``."""
    records = [{"problem": p, "method": m, "status": "timed", "median": t} for (p, m), t in times.items()]
    return {"suites": suites, "records": records}


def test_targets_take_the_fastest_peer_over_auto_and_name_the_worst_problem():
    lines = ["correlate n10000k8", "correlate n10000k64"]
    board = _board({(lines[0], "auto"): 2.0, (lines[0], "scipy.fft"): 3.0, (lines[0], "numpy"): 1.6,
                    (lines[1], "auto"): 1.0, (lines[1], "scipy.direct"): 5.0}, {"signals": lines})
    row = next(r for r in performance.evaluate({"1 thread": board}) if r["what"].startswith("signals"))
    assert row["value"] == pytest.approx(0.8) and row["worst"] == (lines[0], pytest.approx(0.8))  # numpy 1.6 / 2.0
    assert row["met"] is False and row["problems"] == 2


def test_geometric_mean_targets_and_patterns():
    lines = ["conv mb1ic64ih56oc64kh3ph1", "conv mb1ic64ih56oc64kh1", "conv mb8ic64ih56oc64kh3ph1"]
    board = _board({(lines[0], "auto"): 1.0, (lines[0], "torch"): 2.0, (lines[1], "auto"): 2.0,
                    (lines[1], "torch"): 1.0, (lines[2], "auto"): 1.0, (lines[2], "torch"): 0.5},
                   {"resnet50": lines})
    rows = {r["what"]: r for r in performance.evaluate({"1 thread": board})}
    assert rows["ResNet-50 batch 1"]["value"] == pytest.approx(1.0) and rows["ResNet-50 batch 1"]["problems"] == 2
    assert rows["ResNet-50 batch 1, each 3x3 layer"]["value"] == pytest.approx(2.0)
    assert rows["ResNet-50 batch 8"]["value"] == pytest.approx(0.5) and not rows["ResNet-50 batch 8"]["met"]
    assert "ResNet-50 batch 8, 2 threads" not in rows  # no two-thread board given
    assert "pooling" not in rows  # a suite not run is not reported


def test_problems_not_timed_by_both_are_left_out():
    board = _board({("conv mb1ic8ih8oc8kh3ph1", "auto"): 1.0}, {"video-3d": ["conv mb1ic8ih8oc8kh3ph1"]})
    assert performance.evaluate({"1 thread": board}) == []
