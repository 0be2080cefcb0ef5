"""Shipped adapters and the scoreboard: a missing library is a clear load error; every listed
deviation is confirmed by plain-NumPy arithmetic against the installed library; the scoreboard
attributes failures to confirmed deviations and lists the rest as unconfirmed."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest

import convspec
from convspec._engine import machine
from convspec._adapters import ADAPTERS
from convspec._adapters.deviations import DEVIATIONS, DOCUMENTED, explain
from convspec._engine.backend import adapter_unusable
from convspec._frontends.scoreboard import markdown


def test_an_adapter_whose_library_is_missing_is_a_load_error_naming_it(monkeypatch):
    monkeypatch.setitem(ADAPTERS, "ghost", ("convspec._adapters.ghost", "no_such_library_here", "nothing"))
    with pytest.raises(convspec.LoadError, match="needs the package 'no_such_library_here'.*pip install"):
        convspec.load_backend("ghost")


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_every_adapter_loads_where_its_library_is_installed(name):
    """Each in a process of its own, as convspec runs targets: some libraries crash one another
    when loaded together (TensorFlow and LiteRT, then PaddlePaddle: a segmentation fault)."""
    if importlib.util.find_spec(ADAPTERS[name][1]) is None:
        pytest.skip(f"{ADAPTERS[name][1]} not installed")
    code = f"import convspec; b = convspec.load_backend({name!r}); print(len(b.ops))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"adapter {name} did not load: {done.stderr[-2000:]}"
    assert int(done.stdout.strip().splitlines()[-1]) > 0, f"adapter {name} has no contract function"


@pytest.mark.parametrize("deviation", DEVIATIONS + DOCUMENTED, ids=lambda d: f"{d.adapter}-{d.properties[0]}")
def test_every_listed_deviation_is_confirmed_by_independent_arithmetic(deviation):
    package = ADAPTERS[deviation.adapter][1]
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"{package} not installed")
    if deviation.adapter == "tinygrad" and not os.environ.get("DEV") and shutil.which("clang") is None:
        pytest.skip("tinygrad has no device here (its CPU device needs clang): run with DEV=PYTHON")
    present, evidence = deviation.confirm()
    if deviation.cpu and not machine.has(*deviation.cpu):  # the library is right on this CPU, as the entry says
        assert not present, f"{deviation.what}: seen on a CPU without {deviation.cpu} ({evidence})"
        return
    assert present, f"{deviation.what}: no longer seen ({evidence}); remove the entry"


def test_the_cpu_dependent_confirmation_sees_a_wrong_bfloat16_sum(monkeypatch):
    """The AMX bfloat16 confirmation, on a CPU without AMX, given a conv2d that is wrong as
    oneDNN's AMX kernels are (one term of a sum dropped): it reports the deviation."""
    torch = pytest.importorskip("torch")
    from convspec._adapters.deviations import _torch_bf16_conv_on_this_cpu

    right = torch.nn.functional.conv2d

    def drops_the_last_tap(x, w, *args, **kwargs):
        return right(x, w.clone().index_fill_(3, torch.tensor([w.shape[3] - 1]), 0), *args, **kwargs)

    if not machine.has("amx_bf16"):
        assert _torch_bf16_conv_on_this_cpu()[0] is False
    monkeypatch.setattr(torch.nn.functional, "conv2d", drops_the_last_tap)
    present, evidence = _torch_bf16_conv_on_this_cpu()
    assert present and "F.conv2d in bfloat16 gives" in evidence and "CPU " in evidence, evidence


def test_a_machine_dependent_trusted_deviation_explains_only_where_confirmed(monkeypatch):
    from convspec._engine.runner import Result
    from convspec._frontends import conformance

    entry = conformance.KnownDeviation("torch_functional", "conv*_low_precision_*", "AMX bf16", adapter="torch")
    failure = Result("torch_functional", "conv_low_precision_exact", [], "failed",
                     "conv(x: bfloat16, ...)[0, 0, 1, 0]=-0.0625, but should be 0.125")
    monkeypatch.setattr(conformance, "_confirm", lambda d: (False, "exact here"))
    assert conformance.triage([failure], [entry]) == ([failure], [])  # not confirmed: a false alarm
    monkeypatch.setattr(conformance, "_confirm", lambda d: (True, "wrong sums on this CPU"))
    assert conformance.triage([failure], [entry]) == ([], [(failure, "AMX bf16 Confirmed now: wrong sums on this CPU")])
    other = Result("torch_functional", "conv_low_precision_exact", [], "failed", "conv(x: float16, ...)[0]=1, but should be 2")
    assert conformance.triage([other], [entry]) == ([other], [])  # float16: not what the deviation explains
    parsed = conformance.known_deviations(os.path.join(os.path.dirname(__file__), "trusted", "known_deviations.txt"))
    assert any(k.adapter == "torch" and k.matches("torch_functional", "conv_grad_input_low_precision_exact")
               for k in parsed)


def test_deviations_attribute_by_adapter_and_property():
    assert explain("torch", "lp_pool_accuracy").what.startswith("lp_pool raises |x|^p")  # the first match wins
    assert "ceil mode" in explain("torch", "lp_pool_definition").what
    assert explain("scipy", "lp_pool_definition") is None and explain("torch", "conv_definition") is None
    # a documented behaviour explains only what it can cause: here, a subnormal expected value flushed
    flushed = "avg_pool(x, ...)[1, 2]=-0.0, but should be -6.312214793578962e-39 (the exact result ...)"
    assert "flushes subnormal" in explain("jax", "avg_pool_accuracy", flushed).what
    assert explain("jax", "avg_pool_accuracy", flushed.replace("e-39", "e-30")) is None
    # several deviations on one property: the failure's message decides
    nan = "max_pool(...)[0, 0, 0] is finite (3.0), but should be NaN: the IEEE value of the defining sum"
    short = "max_pool(...) raised IndexError: index 4 is out of bounds for axis 2 with size 4"
    assert "skip NaN" in explain("onnx-reference", "max_pool_special_values", nan).what
    assert "MaxPool with pads" in explain("onnx-reference", "max_pool_special_values", short).what
    assert explain("onnx-reference", "max_pool_definition", "max_pool(...)[0, 1]=2.0, but should be 3.0") is None


def test_the_scoreboard_lists_unconfirmed_failures_apart():
    board = {"convspec_version": "0", "profile": "quick", "seed": 0, "duration": 1.0,
             "adapters": {"lib": {"package": "lib", "version": "1", "covers": "conv", "summary": "1 failed"}},
             "not_checked": {"other": "otherlib is not installed"}, "load_errors": {},
             "families": {"lib": {f: {} for f in ("signal", "layer", "gradients", "pooling", "unshared", "special",
                                                   "integer", "precision", "large", "hygiene")}},
             "deviations": [], "conventions": {"lib": ["pads symmetrically"]},
             "unconfirmed": [{"adapter": "lib", "property": "conv_definition", "status": "failed",
                              "message": "conv(...)[0]=1.0, but should be 2.0", "root_cause": "conv"}]}
    board["families"]["lib"]["layer"] = {"passed": 3, "failed": 1}
    text = markdown(board)
    assert "| layer | **3/4** |" in text and "| signal | - |" in text
    assert "- `lib` / `conv_definition` (failed): conv(...)[0]=1.0, but should be 2.0" in text
    assert "`other` (otherlib is not installed)" in text and "pads symmetrically" in text
    # confirmed deviations are summed by kind across libraries; a CPU-dependent one names its CPU
    board["adapters"]["lib2"] = {**board["adapters"]["lib"], "profile": "jit", "dispatch": "ATen AVX512"}
    board["families"]["lib2"] = board["families"]["lib"]
    board["machine"] = "Some CPU (avx512f, amx_bf16)"
    board["deviations"] = [{"adapter": a, "what": w, "kind": k, "cpu": c, "evidence": "lib([nan]) = 1; nan",
                            "properties": ["max_pool_special_values"],
                            "counterexample": {"property": "max_pool_special_values", "message": "m"}}
                           for a, w, k, c in (("lib", "drops NaN", "NaN", []), ("lib2", "drops NaN too", "NaN", []),
                                              ("lib2", "wrong bf16 sums", "wrong sums", ["amx_bf16"]))]
    text = markdown(board)
    assert "| NaN (NaN dropped or invented) | 1 | 1 |" in text
    assert "| wrong sums (wrong values on valid finite input) |  | 1 |" in text
    assert "shows on CPUs with amx_bf16 (this run: Some CPU (avx512f, amx_bf16))" in text
    assert "| `lib2` | lib | 1 (ATen AVX512) | conv | jit | 1 failed |" in text


def test_confirmations_run_apart_give_what_they_give_in_process():
    """The board confirms each adapter's deviations in a process of its own (libraries that
    crash one another stay apart); the answers are those of the confirmation itself."""
    from convspec._adapters.deviations import confirm_apart

    chosen = [d for d in DEVIATIONS if d.adapter == "scipy"][:1]
    if not chosen or importlib.util.find_spec("scipy") is None:
        pytest.skip("scipy not installed")
    assert confirm_apart(chosen) == {(chosen[0].adapter, chosen[0].what): chosen[0].confirm()}


def test_two_libraries_that_deviate_alike_are_listed_apart(monkeypatch):
    """ONNX Runtime and OpenVINO share the text of their LpPool overflow: each library's
    failure is attributed to its own entry, confirmed on its own."""
    import convspec._frontends.scoreboard as board

    asked = []

    def confirm(deviations):
        asked.extend((d.adapter, d.what) for d in deviations)
        return {(d.adapter, d.what): (True, f"{d.adapter} overflows") for d in deviations}

    monkeypatch.setattr(board, "confirm_apart", confirm)
    message = "lp_pool(x, ...)[0, 0, 0]=inf, but should be 4.2e+35 (the exact result)"
    results = [{"backend": a, "property": "lp_pool_accuracy", "concepts": [], "status": "failed", "message": message,
                "counterexample": {"reproduction": "print(1)"}} for a in ("onnxruntime", "openvino")]
    got = board.attribute(results, ["onnxruntime", "openvino"], profile="quick", seed=0, duration=1.0, load_errors={})
    assert sorted(d["adapter"] for d in got["deviations"]) == ["onnxruntime", "openvino"] and not got["unconfirmed"]
    assert {d["adapter"]: d["evidence"] for d in got["deviations"]} == {"onnxruntime": "onnxruntime overflows",
                                                                        "openvino": "openvino overflows"}
    assert len(asked) == 2


def test_the_board_records_what_a_library_dispatches_to():
    """Where a library says which kernels it picks on this CPU, the board records it; a
    library that is missing or says nothing records nothing (and never fails the board)."""
    from convspec._adapters import dispatch

    assert dispatch("scipy") == "" and dispatch("no-such-adapter") == ""
    if importlib.util.find_spec("torch") is not None:
        assert dispatch("torch").startswith("ATen ")


def test_scoreboard_command_on_one_adapter(tmp_path):
    if importlib.util.find_spec("scipy") is None:
        pytest.skip("scipy not installed")
    out = subprocess.run([sys.executable, "-m", "convspec", "scoreboard", "--adapters", "scipy-ndimage", "--profile",
                          "quick", "--out", str(tmp_path)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    board = json.loads((tmp_path / "scoreboard.json").read_text())
    assert list(board["adapters"]) == ["scipy-ndimage"] and board["adapters"]["scipy-ndimage"]["version"] != "?"
    assert set(board["not_checked"]) == {a for a in ADAPTERS if adapter_unusable(a)}  # not installed, or no device
    first = (tmp_path / "scoreboard.md").read_text()
    assert first.startswith("# convspec scoreboard")
    again = tmp_path / "again"
    out = subprocess.run([sys.executable, "-m", "convspec", "scoreboard", "--results", str(tmp_path / "scoreboard.json"),
                          "--out", str(again)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert out.returncode == 0 and (again / "scoreboard.md").read_text() == first  # attributed again, not rechecked
    bad = subprocess.run([sys.executable, "-m", "convspec", "scoreboard", "--adapters", "nope"], capture_output=True,
                         text=True, timeout=120, cwd=tmp_path)
    assert bad.returncode == 2 and "adapter='nope'" in bad.stderr


def test_onnx_reference_adapter_passes_where_onnx_is_right():
    """No false alarm through the ONNX adapters' translations (pads, ceil-mode overhang,
    dilations, ConvTranspose's output padding): ONNX's reference evaluator passes the
    properties no listed deviation touches."""
    if importlib.util.find_spec("onnx") is None:
        pytest.skip("onnx not installed")
    from convspec._catalogue.property import REGISTRY
    from convspec._engine.runner import run_property

    backend = convspec.load_backend("onnx-reference")
    for name in ("conv_definition", "conv_dilation", "avg_pool_definition", "lp_pool_definition",
                 "avg_pool_padding_only_window", "conv_grad_input_bias"):
        result = run_property(REGISTRY[name], backend, profile="quick", seed=0)
        known = explain("onnx-reference", name, result.message)
        assert result.status == "passed" or known is not None, f"{name}: {result.status}: {result.message}"
