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
    "forges_verdict.py": "fail",
    "daemon_rewrites_report.py": "fail",
    "undoes_death_signal.py": "fail",
    "stops_command_line.py": "fail",
    "zero_d_result.py": "fail",
    "stdin_to_devnull.py": "pass",
    "floods_output.py": "pass",
    "leaks_memory.py": "fail",
}
#: file -> extra command-line arguments for its run.
EXTRA = {"leaks_memory.py": ["--memory-limit", "1G"]}
#: file -> what the messages must say (the reason, not just a failure).
SAYS = {"leaks_memory.py": "--memory-limit", "zero_d_result.py": "shape=()"}
CODES = {"pass": {0}, "fail": {1}, "load-error": {2}, "wrong": {1, 2}}


#: Hostile backends a property of their own catches, with the properties and profile that must.
BY_PROPERTY = {"wrong_in_threads.py": (["correlate_worker_threads"], "quick"),
               "wrong_after_300_calls.py": (["correlate_sustained_calls"], "default"),
               "wrong_after_20_seconds.py": (["correlate_sustained_calls"], "default")}


def test_every_hostile_file_has_an_expectation():
    files = {f for f in os.listdir(HOSTILE) if f.endswith(".py") and not f.startswith("_")}
    known = set(EXPECT) | set(BY_PROPERTY)
    assert files == known, f"files without an expectation: {files - known}; stale: {known - files}"


@pytest.mark.parametrize("name", sorted(BY_PROPERTY))
def test_state_a_short_check_never_shows_is_caught(corpus, name):
    """Wrong only on worker threads, or only after hundreds of calls or tens of seconds: what a
    real program does and a short check does not."""
    props, profile = BY_PROPERTY[name]
    out = run_check(str(corpus / name), "--profile", profile, "--seed", "1", "--only", *props, cwd=corpus, timeout=300)
    assert out.returncode == 1 and "FAIL" in out.stdout, out.stdout[-3000:] + out.stderr[-2000:]
    right = run_check(str(corpus / "correct.py"), "--profile", profile, "--seed", "1", "--only", *props, cwd=corpus,
                      timeout=300)
    assert right.returncode == 0, right.stdout[-3000:]
    assert_nothing_left(str(corpus))


#: What the weaker process mode (no bubblewrap) still guarantees: a forged verdict is refused
#: (sealed frames), a daemon is killed (the judge adopts and ends what the executor leaves), the
#: channels are the protocol's own, nothing is left on disk.
PROCESS_MODE = ["forges_verdict.py", "daemon_rewrites_report.py", "zero_d_result.py", "stdin_to_devnull.py",
                "floods_output.py", "correct.py"]


@pytest.mark.parametrize("name", PROCESS_MODE)
def test_process_mode_keeps_its_guarantees(corpus, name, tmp_path):
    report = corpus / "out.json"
    out = run_check(str(corpus / name), "--sandbox", "process", "--profile", "quick", "--seed", "1", "--only",
                    *PROPERTIES, "--call-timeout", "5", "--import-timeout", "10", "--json", str(report), cwd=corpus,
                    env={"TMPDIR": str(tmp_path)})
    # a forged frame arrives before the judge's own and is refused: the target counts as not loaded
    expect = "wrong" if name == "forges_verdict.py" else EXPECT[name]
    assert out.returncode in CODES[expect], out.stdout[-3000:] + out.stderr[-2000:]
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    assert "executors: process" in out.stdout or expect != "pass"
    assert_nothing_left(str(corpus))
    time.sleep(5 if name == "daemon_rewrites_report.py" else 0)
    assert json.loads(report.read_text())["exit_status"] == out.returncode
    assert not [f for f in os.listdir(tmp_path) if "convspec" in f]


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


def run_check(*args, cwd, timeout=150, mark=None, env=None):
    """``convspec check`` as a user runs it; a run that does not end within ``timeout``
    seconds fails the test (subprocess.TimeoutExpired)."""
    env = {**os.environ, "CONVSPEC_HOSTILE_MARK": mark or str(cwd), **(env or {})}
    return subprocess.run([sys.executable, "-P", "-m", "convspec", "check", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_hostile_backend_gets_its_verdict(corpus, name, tmp_path):
    report = corpus / "out.json"
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    out = run_check(str(corpus / name), "--profile", "quick", "--seed", "1", "--only", *PROPERTIES,
                    "--call-timeout", "5", "--import-timeout", "10", "--json", str(report), *EXTRA.get(name, []),
                    cwd=corpus, env={"TMPDIR": str(tmpdir)})
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
    if name in SAYS:
        assert SAYS[name] in out.stdout + out.stderr, out.stdout[-3000:]
    assert_nothing_left(str(corpus))
    time.sleep(5 if name == "daemon_rewrites_report.py" else 0)  # past the daemon's rewrite, had it survived
    if report.exists() and expect != "load-error":
        payload = json.loads(report.read_text())  # the report the run wrote, not a forged or a stale one
        assert payload["exit_status"] == out.returncode and payload["complete"], payload
    left = [f.name for f in tmpdir.iterdir()]
    assert not [f for f in left if "convspec" in f], f"convspec left files in TMPDIR: {left}"


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
