"""``convspec bench`` (docs/results/performance.md): the problem grammar, the suites as data, bad input
as one line and exit 2 with nothing written, and a quick run on a user's file target that
checks results before timing them.  No speed is asserted: timings are measured, not tested."""

import json
import os
import subprocess
import sys

import pytest

from convspec._bench.problems import ProblemError, parse, read
from convspec._bench.suites import SUITES

PLAIN = '''
import numpy as np

convspec_capabilities = {"ops": ["conv"], "ndims": [2]}


def conv(x, w, *, stride, padding, dilation, groups):
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(padding))
    k = w.shape[2:]
    cols = np.lib.stride_tricks.sliding_window_view(xp, k, axis=(2, 3))[:, :, ::stride[0], ::stride[1]]
    return np.einsum("nchwij,ocij->nohw", cols, w, optimize=True).astype(x.dtype)
'''


def test_every_suite_parses_and_means_what_it_says():
    for name, (full, quick) in SUITES.items():
        assert full and quick, name
        for line in full + quick:
            parse(line)
    p = parse("conv mb8ic64ih56oc64kh3ph1")
    assert p.shapes == ((8, 64, 56, 56), (64, 64, 3, 3)) and p.kwargs["padding"] == ((1, 1), (1, 1))
    assert p.flops() == 2 * 8 * 64 * 56 * 56 * 64 * 9
    d = parse("conv mb1ic32ih112oc32kh3ph1g32")
    assert d.shapes[1] == (32, 1, 3, 3) and d.kwargs["groups"] == 32
    a = parse("conv mb1ic64iw16000oc64kw3dw8pw8")
    assert a.shapes[0] == (1, 64, 16000) and a.kwargs["dilation"] == (8,)
    v = parse("conv_grad_weight mb1ic8id4ih8oc8kd3kh3pd1ph1")
    assert v.kwargs["weight_shape"] == (8, 8, 3, 3, 3) and v.shapes[0] == (1, 8, 4, 8, 8)
    assert parse("correlate n512x512k15x15").shapes == ((512, 512), (15, 15))


@pytest.mark.parametrize("line, words", [
    ("conv mb1ic64ih56oc64kh3ph1zz2", "field 'zz'"),
    ("conv mb1ic64ih56oc64kh3ph1oh57", "oh=57 in 'mb1ic64ih56oc64kh3ph1oh57', but the other fields give 56"),
    ("convx mb1ic4ih8", "op 'convx', but should be a contract function"),
    ("conv ic64", "has no size"),
    ("conv mb1ic6ih8g4", "g=4"),
    ("max_pool mb1ic8ih8kh2g2", "field 'g'"),
    ("correlate n100k", "signal descriptor"),
    ("conv", "should be 'OP DESCRIPTOR'"),
])
def test_a_bad_descriptor_names_its_field(line, words):
    with pytest.raises(ProblemError, match=words.replace("(", r"\(").replace(")", r"\)")):
        parse(line)


def test_a_problems_file_error_names_the_line(tmp_path):
    f = tmp_path / "mine.txt"
    f.write_text("# my layers\nconv mb1ic8ih8oc8kh3ph1\n\nconv mb1ic8ih8oc8kq3\n")
    with pytest.raises(ProblemError, match=r"mine.txt:4: field 'kq'"):
        read(str(f))


def _bench(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "convspec", "bench", *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=600)


@pytest.mark.parametrize("args, words", [
    (["naive", "--suite", "resnet5O"], "suite='resnet5O', but should be one of resnet50"),
    (["naive", "--peers", "tourch"], "peer='tourch', but should be one of auto"),
    (["naive", "--problems", "bad.txt"], "bad.txt:1: field 'zz'"),
    (["plain.py", "--suite", "pooling", "--quick"], "target 'plain' has none of the functions the problems need"),
    (["naive", "--threads", "0"], "--threads=0"),
])
def test_bad_input_is_one_line_and_exit_2_with_nothing_written(tmp_path, args, words):
    (tmp_path / "bad.txt").write_text("conv mb1ic8ih8zz2\n")
    (tmp_path / "plain.py").write_text(PLAIN)
    out = _bench(tmp_path, *args, "--out", "out")
    assert out.returncode == 2, out.stdout + out.stderr
    assert words in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert not (tmp_path / "out").exists()


def test_a_users_file_is_timed_beside_auto_and_a_wrong_one_is_reported_not_timed(tmp_path):
    (tmp_path / "plain.py").write_text(PLAIN)
    (tmp_path / "wrong.py").write_text(PLAIN.replace(".astype(x.dtype)", ".astype(x.dtype) * 1.01"))
    (tmp_path / "mine.txt").write_text("conv mb1ic8ih16oc8kh3ph1\nconv mb1ic16ih8oc8kh1\n")
    out = _bench(tmp_path, "plain.py", "wrong.py", "--problems", "mine.txt", "--peers", "auto", "--out", "out", "-q")
    assert out.returncode == 1, out.stdout + out.stderr  # a target gave wrong results
    board = json.loads((tmp_path / "out" / "bench.json").read_text())
    status = {(r["problem"], r["method"]): r["status"] for r in board["records"]}
    assert status[("conv mb1ic8ih16oc8kh3ph1", "plain")] == "timed" and status[("conv mb1ic16ih8oc8kh1", "auto")] == "timed"
    assert status[("conv mb1ic8ih16oc8kh3ph1", "wrong")] == "wrong"
    timed = [r for r in board["records"] if r["status"] == "timed"]
    assert all(r["calls"] >= 2 and r["q1"] <= r["median"] <= r["q3"] for r in timed)
    assert board["environment"]["threads"] == 1 and board["environment"]["gemm_gflops"] > 0
    text = (tmp_path / "out" / "bench.md").read_text()
    assert "| `conv mb1ic8ih16oc8kh3ph1` |" in text and "wrong: [" in text and "auto / plain" in text
    again = _bench(tmp_path, "plain.py", "--problems", "mine.txt", "--peers", "--out", "again", "-q",
                   "--compare", str(tmp_path / "out" / "bench.json"))
    assert again.returncode == 0, again.stderr
    assert "## Against the earlier run" in (tmp_path / "again" / "bench.md").read_text()


def test_a_gauss_kernel_is_rank_one_and_normalised():
    p = parse("correlate n64x64k9x9gauss")
    _, w = p.arrays(__import__("numpy").random.default_rng(0))
    import numpy as np

    assert p.kernel == "gauss" and w.shape == (9, 9)
    assert abs(float(w.sum()) - 1) < 1e-5 and np.linalg.matrix_rank(w.astype(np.float64), tol=1e-6) == 1
    assert parse("correlate n64x64k9x9").kernel == "random"


@pytest.mark.parametrize("peer", ["scipy", "scipy_direct", "scipy_fft", "scipy_oaconvolve", "scipy_ndimage", "numpy"])
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_each_signal_peer_agrees_with_the_reference(peer, nd):
    import numpy as np

    from convspec._contract import reference
    from convspec._bench import peers

    if peer == "numpy" and nd > 1:
        pytest.skip("numpy.convolve is 1-D")
    rng = np.random.default_rng(nd)
    for n, k in ((11, 4), (12, 5)):
        x, w = rng.standard_normal((n,) * nd), rng.standard_normal((k,) * nd)
        for op in ("correlate", "convolve"):
            got = getattr(getattr(peers, peer), op)(x, w, mode="same")
            want = getattr(reference, op)(x, w, mode="same")
            assert np.allclose(got, want, atol=1e-10), f"{peer}.{op} n={n}, k={k}"


def test_exponents_are_fitted_per_method_and_crossovers_plotted(tmp_path):
    from convspec._bench.report import exponent, exponents, kernel_series, plots

    records = [{"problem": f"correlate n4096k{k}", "method": m, "status": "timed", "median": t}
               for k in (8, 16, 32, 64) for m, t in (("direct", 1e-6 * k), ("fft", 3e-4))]
    board = {"records": records, "accuracy": {"direct": "direct", "fft": "fft"}, "targets": ["direct"],
             "peers": ["fft"], "suites": {"s": sorted({r["problem"] for r in records})}}
    assert set(kernel_series(board)) == {("correlate", "n4096k*", 1)}
    assert exponent([(8, 8.0), (16, 16.0), (32, 32.0)]) == pytest.approx(1.0)
    assert exponent([(8, 1.0), (16, 2.0)]) is None  # two sizes fit any line
    text = "\n".join(exponents(board))
    assert "| `correlate n4096k*` | direct | 1.00 | 1 (direct) |" in text
    assert "| `correlate n4096k*` | fft | 0.00 | 0 (transform) to 1 (direct) |" in text
    pytest.importorskip("matplotlib")
    assert "crossover_correlate_n4096k.png" in plots(board, str(tmp_path))


def test_a_dispatchers_choice_is_recorded_with_its_time():
    """A target with ``plans()`` (auto's record of what timing chose) gets the choice its first
    call made written beside its time; one without gets none."""
    import numpy as np

    from convspec import load_backend
    from convspec._bench.engine import measure, oracle

    class Dispatcher:
        convspec_capabilities = {"ops": ["conv"]}
        _plans = {}

        def conv(self, x, w, **kw):
            self._plans[("conv", x.shape)] = "winograd"
            return load_backend("im2col").conv(x, w, **kw)

        def plans(self):
            return dict(self._plans)

    problem = parse("conv mb1ic4ih8oc4kh3ph1")
    args = problem.arrays(np.random.default_rng(0))
    records = measure({"d": load_backend(Dispatcher()), "im2col": load_backend("im2col")}, problem, args,
                      *oracle(problem, args), rounds=1, budget=0.001)
    chose = {r["method"]: r.get("chose") for r in records}
    assert chose == {"d": "winograd", "im2col": None}


@pytest.mark.parametrize("busy_windows, limit_hit", [(0, False), (3, False), (10**6, True)])
def test_each_block_starts_once_other_threads_are_idle(monkeypatch, busy_windows, limit_hit):
    """wait_until_idle sleeps in windows until the process used less than IDLE_SHARE of a core
    over one (another thread spinning uses a whole core), or IDLE_LIMIT has passed.  The clocks
    are stand-ins: a window is 10 ms, and the spinner stops after ``busy_windows`` of them."""
    from convspec._bench import engine

    clock = {"wall": 0.0, "cpu": 0.0, "windows": 0}

    def sleep(seconds):
        clock["wall"] += seconds
        if clock["windows"] < busy_windows:
            clock["cpu"] += seconds  # a thread still spinning: one core busy
        clock["windows"] += 1

    monkeypatch.setattr(engine.time, "sleep", sleep)
    monkeypatch.setattr(engine.time, "perf_counter", lambda: clock["wall"])
    monkeypatch.setattr(engine.time, "process_time", lambda: clock["cpu"])
    waited = engine.wait_until_idle()
    windows = engine.IDLE_LIMIT / engine.IDLE_WINDOW if limit_hit else busy_windows + 1
    assert clock["windows"] == pytest.approx(windows), f"slept {clock['windows']} windows, but should sleep {windows}"
    assert waited == pytest.approx(clock["wall"])


HOLD = '''
import os, threading
from convspec._bench.engine import environment, hold_to_cores

started = threading.Event()
stop = threading.Event()
before = threading.Thread(target=lambda: (started.set(), stop.wait()))
before.start()
started.wait()
held = hold_to_cores(1)
seen = {}
after = threading.Thread(target=lambda: seen.update(after=os.sched_getaffinity(0)))
after.start()
after.join()
seen["before"] = os.sched_getaffinity(before.native_id)
stop.set()
before.join()
print(held, sorted(os.sched_getaffinity(0)), sorted(seen["before"]), sorted(seen["after"]),
      hold_to_cores(len(os.sched_getaffinity(0))), environment(1).get("held_to_cpus"))
'''


ALLOWED_CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


@pytest.mark.skipif(len(ALLOWED_CPUS) < 2, reason="needs CPU affinity and two CPUs")
def test_a_one_thread_run_holds_every_thread_to_one_cpu():
    """Asked for one thread, a run holds every thread of its process, those running already and
    those started later (where XLA's pool ignores the thread settings), to one CPU; asked for
    all of them, it holds nothing.  In a child process: the tests' own keep their CPUs."""
    first = ALLOWED_CPUS[0]
    out = subprocess.run([sys.executable, "-c", HOLD], capture_output=True, text=True, check=True).stdout
    out = out.split("\n")[0]
    assert out == f"[{first}] [{first}] [{first}] [{first}] None [{first}]"
