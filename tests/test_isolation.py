"""The judge and the executor kept apart (SPEC §8), tried with a corpus of hostile and
careless backends (``tests/hostile/``): every wrong backend exits non-zero, every correct one
0 with a JSON report, every run ends in bounded time, and no process of the run is left."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
HOSTILE = os.path.join(HERE, "hostile")
PROPERTIES = ["conv_definition", "correlate_definition", "conv_dtype_preservation", "correlate_dtype_preservation",
              "conv_output_ownership"]

#: file -> the verdict it must get: "pass" (exit 0), "fail" (exit 1), "load-error" (exit 2),
#: "wrong" (1 or 2: which one depends on when its forged output reaches the judge).
EXPECT = {
    "correct.py": "pass",
    "leftover_thread.py": "pass",
    "spawns_children.py": "pass",
    "patch_numpy.py": "fail",
    "patch_convspec.py": "fail",
    "end_hypothesis_early.py": "fail",
    "frame_reader.py": "fail",
    "atexit_exit.py": "fail",
    "dtype_liar.py": "fail",
    "object_result.py": "fail",
    "structured_result.py": "fail",
    "garbles_reply.py": "fail",
    "blocks_sigalrm.py": "fail",
    "sys_exit_in_call.py": "fail",
    "pipe_forgery.py": "wrong",
    "resends_start.py": "wrong",
    "pickle_bomb.py": "load-error",
    "os_exit_at_import.py": "load-error",
    "sys_exit_at_import.py": "load-error",
    "declares_nothing.py": "load-error",
    "import_loop.py": "load-error",
    "capabilities_raise.py": "load-error",
    "getattr_raises.py": "load-error",
    "binary_garbage.py": "load-error",
}
CODES = {"pass": {0}, "fail": {1}, "load-error": {2}, "wrong": {1, 2}}


def test_every_hostile_file_has_an_expectation():
    files = {f for f in os.listdir(HOSTILE) if f.endswith(".py") and not f.startswith("_")}
    assert files == set(EXPECT), f"files without an expectation: {files - set(EXPECT)}; stale: {set(EXPECT) - files}"


def leftovers(mark: str) -> list[str]:
    """Command lines of live processes that mention ``mark`` (this test's own folder)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if mark in cmd and state != "Z":
            found.append(f"{pid}: {cmd[:200]}")
    return found


def assert_nothing_left(mark):
    for _ in range(25):  # SIGKILLed processes take a moment to be reaped
        if not leftovers(mark):
            break
        time.sleep(0.2)
    left = leftovers(mark)
    for line in left:  # do not let one failure pollute the machine
        try:
            os.kill(int(line.split(":")[0]), signal.SIGKILL)
        except OSError:
            pass
    assert not left, "processes left behind:\n" + "\n".join(left)


@pytest.fixture
def corpus(tmp_path):
    """A private copy of the hostile corpus (so leftover processes are recognised by path)."""
    root = tmp_path / "hostile"
    shutil.copytree(HOSTILE, root)
    return root


def run_check(*args, cwd, timeout=150, mark=None):
    """``convspec check`` as a user runs it; a run that does not end within ``timeout``
    seconds fails the test (subprocess.TimeoutExpired)."""
    env = {**os.environ, "CONVSPEC_HOSTILE_MARK": mark or str(cwd)}
    return subprocess.run([sys.executable, "-P", "-m", "convspec", "check", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_hostile_backend_gets_its_verdict(corpus, name):
    report = corpus / "out.json"
    out = run_check(str(corpus / name), "--profile", "quick", "--seed", "1", "--only", *PROPERTIES,
                    "--call-timeout", "5", "--import-timeout", "10", "--json", str(report), cwd=corpus)
    expect = EXPECT[name]
    assert out.returncode in CODES[expect], (
        f"{name}: exit {out.returncode}, but should be {sorted(CODES[expect])} ({expect})\n{out.stdout[-3000:]}\n{out.stderr[-2000:]}")
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    if expect == "load-error":
        lines = [line for line in out.stderr.splitlines() if line.startswith("convspec:")]
        assert len(lines) == 1, out.stderr  # reported once, in one line
    if expect == "pass":
        payload = json.loads(report.read_text())
        assert payload["exit_status"] == 0 and payload["complete"]
        assert {r["status"] for r in payload["results"]} <= {"passed", "skipped"}
    assert_nothing_left(str(corpus))


def test_same_named_targets_are_judged_on_their_own_code(corpus):
    report = corpus / "out.json"
    a, b = corpus / "neighbours" / "a" / "impl.py", corpus / "neighbours" / "b" / "impl.py"
    out = run_check(str(a), str(b), "--profile", "quick", "--seed", "1", "--only", "conv_definition",
                       "correlate_definition", "--json", str(report), cwd=corpus)
    assert out.returncode == 1, out.stdout + out.stderr
    results = json.loads(report.read_text())["results"]
    by_backend = {}
    for r in results:
        by_backend.setdefault(r["backend"], set()).add(r["status"])
    assert by_backend == {"a/impl.py": {"failed"}, "b/impl.py": {"passed"}}, by_backend
    assert "a/impl.py" in out.stdout and "b/impl.py" in out.stdout
    assert_nothing_left(str(corpus))


def test_files_named_like_stdlib_or_convspec_modules_break_nothing(corpus):
    shadow = corpus / "shadow"
    out = run_check("naive", "typing.py", "impls.py", "--profile", "quick", "--seed", "1",
                       "--only", "correlate_definition", "conv_definition", cwd=shadow)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "4 passed, 0 failed, 0 errors, 2 skipped" in out.stdout, out.stdout


def test_sigterm_during_a_hang_ends_the_run_with_partial_results(corpus):
    report = corpus / "out.json"
    proc = subprocess.Popen([sys.executable, "-P", "-m", "convspec", "check", str(corpus / "blocks_sigalrm.py"),
                             "--profile", "quick", "--only", "correlate_definition", "--call-timeout", "300",
                             "--json", str(report)], cwd=corpus, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(300):  # until the executor is up (at most a minute)
        if any("convspec._engine.executor" in line for line in leftovers(str(corpus))):
            break
        time.sleep(0.2)
    time.sleep(1.0)  # the first call is under way
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, stdout + stderr
    assert "interrupted by SIGTERM" in stderr
    payload = json.loads(report.read_text())
    assert payload["complete"] is False and payload["exit_status"] == 128 + signal.SIGTERM
    assert_nothing_left(str(corpus))


def test_unwritable_json_path_is_refused_before_the_run(tmp_path):
    # refused at once, not after the run: the whole catalogue on naive would not end within the timeout
    out = run_check("naive", "--json", str(tmp_path / "no" / "such" / "folder" / "r.json"), cwd=tmp_path, timeout=30)
    assert out.returncode == 2 and "--json" in out.stderr and "does not exist" in out.stderr
