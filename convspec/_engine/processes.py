"""Process lifetimes shared by the command line, the judges and the executors."""

from __future__ import annotations

import os
import signal
import site

#: The folder holding this convspec package (a source tree, or site-packages).
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def from_source_tree() -> bool:
    """Whether this convspec runs from a source tree rather than an installed package."""
    dirs = set(site.getsitepackages()) if hasattr(site, "getsitepackages") else set()
    dirs.add(site.getusersitepackages())
    return os.path.realpath(ROOT) not in {os.path.realpath(d) for d in dirs}


def child_env() -> dict:
    """The environment for a judge or executor: it imports the same convspec as this process
    (run from a source tree, that tree goes first on its PYTHONPATH)."""
    env = dict(os.environ)
    if from_source_tree():
        env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when ``parent`` (the process that started it) dies,
    so nothing outlives a run whose command line was killed outright."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the parent's clean-up still kills the group
        pass
    if os.getppid() != parent:
        os._exit(1)


def kill_group(pgid: int) -> None:
    """SIGKILL every process of the group ``pgid`` (gone already: nothing to do)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def describe_status(code: int | None) -> str:
    """An exit status in words: the signal by name, or the status number."""
    if code is None:
        return "did not exit"
    if code < 0:
        try:
            sig = signal.Signals(-code)
        except ValueError:
            return f"was killed by signal {-code}"
        text = signal.strsignal(sig) or ""
        return f"was killed by signal {sig.name}" + (f" ({text.lower()})" if text else "")
    return f"exited with status {code}"
