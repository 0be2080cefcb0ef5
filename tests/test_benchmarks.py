"""The benchmark suite's quick mode as a smoke test (every method runs once, untimed, and its
result is checked), and meta-tests of the report's arithmetic on made-up timings.  No
performance is asserted here: timings are measured by ``bash scripts/bench.sh``."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import report  # noqa: E402  (benchmarks/report.py)


def test_quick_benchmarks_run_and_check_their_results():
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "benchmarks", "-q", "-p", "no:cacheprovider", "--benchmark-disable",
         "-k", "not compile"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]


def _row(median, flops=None):
    return {"median": median, "iqr": 0.0, "extra_info": {"flops": flops} if flops else {}}


@pytest.mark.parametrize("e", [1.0, 2.0, 0.5])
def test_exponent_recovers_a_power_law(e):
    points = [(k, 3e-4 * k ** e) for k in (3, 7, 15, 31)]
    assert report.exponent(points) == pytest.approx(e)


def test_exponent_needs_three_sizes():
    assert report.exponent([(3, 1.0), (7, 2.0)]) is None


def test_acceptance_ratios_are_peer_time_over_auto_time():
    groups = {
        "mb1ic64ih56oc64oh56kh3ph1": {"auto": _row(2.0), "torch": _row(3.0)},
        "mb1ic64ih56oc64oh56kh1ph0": {"auto": _row(1.0), "torch": _row(1.0)},
        "2-D 512x512 k=3": {"auto": _row(1.0), "scipy.ndimage": _row(4.0), "scipy.fft": _row(2.0), "numba": _row(0.5)},
        "separable 2048x2048 gaussian k=31": {"auto": _row(1.0), "scipy.fft": _row(5.0)},
    }
    text = "\n".join(report.acceptance(groups))
    assert "| 1.50 |" in text  # 3x3 layer: 3.0 / 2.0
    assert f"**{(1.5 * 1.0) ** 0.5:.2f}**" in text  # geometric mean over the two layers
    assert "| scipy.fft | 2000.000 | 1000.000 | 2.00 |" in text  # fastest peer only, bundled numba ignored
    assert "**5.00x**" in text


def test_acceptance_takes_the_median_over_rounds_so_one_burst_does_not_decide():
    layer = "mb1ic64ih56oc64oh56kh3ph1"
    groups = {
        layer: {"auto": _row(2.0), "torch": _row(3.0)},
        f"{layer} round 1": {"auto": _row(9.0), "torch": _row(3.3)},  # a burst of load on auto's block
        f"{layer} round 2": {"auto": _row(2.2), "torch": _row(2.9)},
    }
    text = "\n".join(report.acceptance(groups))
    assert "| ic64ih56oc64oh56kh3ph1 | 3000.000 | 2200.000 | 1.36 | 3 |" in text
    assert "round" not in "\n".join(report.tables(groups, peak=None))  # rounds feed the acceptance table only


def test_tables_rank_methods_against_the_fastest_and_the_gemm_rate():
    groups = {"mb1ic8ih8oc8oh8kh3ph1": {"a": _row(2e-3, 4e9), "b": _row(1e-3, 4e9)}}
    text = "\n".join(report.tables(groups, peak=100.0))
    assert "| b | 1.000 | 0.000 | 1.00 | 4000.0 | 4000 |" in text
    assert "| a | 2.000 | 0.000 | 2.00 | 2000.0 | 2000 |" in text


def test_roofline_intensity_is_flops_over_the_least_traffic():
    # 1x1 layer, 8 channels in and out on 4x4: 2*8*8*16 flops over 4*(128 + 64 + 128) bytes
    assert report.intensity("mb1ic8ih4oc8oh4kh1ph0") == pytest.approx(2 * 8 * 8 * 16 / (4 * (128 + 64 + 128)))


def test_plot_ticks_do_not_collide():
    kept = report._readable_ticks({3, 4, 7, 15, 16, 31, 63})
    assert kept[0] == 3 and kept[-1] == 63 and not {15, 16} <= set(kept)
    assert report._readable_ticks({8, 64}) == [8, 64]


def test_every_plot_gives_a_method_the_same_style_and_stale_plots_go(tmp_path):
    pytest.importorskip("matplotlib")
    report.assign_styles({"a": {"auto": {}, "fft": {}}, "b": {"numba": {}, "fft": {}}})
    assert report.STYLES["fft"] != report.STYLES["auto"] != report.STYLES["numba"]
    first = dict(report.STYLES)
    report.assign_styles({"b": {"numba": {}, "fft": {}}, "a": {"fft": {}, "auto": {}}})  # another order
    assert report.STYLES == first
    stale = tmp_path / "crossover_old.png"
    stale.write_bytes(b"")
    groups = {"GEMM": {"gemm": {"median": 1.0, "iqr": 0.0, "extra_info": {"flops": 1e9, "environment": {}}}},
              "mb1ic8ih8oc8oh8kh3ph1": {"auto": _row(1e-3, 1e7), "im2col": _row(2e-3, 1e7)}}
    import json

    (tmp_path / "b.json").write_text(json.dumps({"benchmarks": [
        {"group": g, "name": f"test_x[{m}]", "params": {"method": m}, "stats": {k: v for k, v in r.items() if k != "extra_info"},
         "extra_info": r["extra_info"]} for g, rows in groups.items() for m, r in rows.items()]}))
    report.main([str(tmp_path / "b.json"), "--out", str(tmp_path)])
    assert (tmp_path / "roofline_layers.png").exists() and not stale.exists()
    assert "memory bandwidth was not measured in this run" in (tmp_path / "performance.md").read_text().lower()
