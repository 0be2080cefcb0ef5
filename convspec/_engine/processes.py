"""Process lifetimes shared by the command line, the judges and the executors."""

from __future__ import annotations

import os
import shutil
import signal
import site
import subprocess
import tempfile
import threading

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


# ----------------------------------------------------------------------- containment

#: Sandboxes an executor may run in: "bwrap" (bubblewrap: namespaces of its own, a read-only
#: file system) or "process" (a process group and session of its own, limits from outside).
SANDBOXES = ("bwrap", "process")
_BWRAP: list = []


def bwrap_usable() -> str | None:
    """The path of a bubblewrap that can make namespaces here (probed once), or ``None``."""
    if not _BWRAP:
        path = shutil.which("bwrap")
        ok = False
        if path:
            try:
                ok = subprocess.run([path, "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--die-with-parent",
                                     "true"], capture_output=True, timeout=30).returncode == 0
            except (OSError, subprocess.SubprocessError):
                ok = False
        _BWRAP.append(path if ok else None)
    return _BWRAP[0]


def default_sandbox() -> str:
    return "bwrap" if bwrap_usable() else "process"


def bwrap_prefix(readable=()) -> list[str]:
    """The bubblewrap command an executor runs under: its own PID, IPC, network and UTS
    namespaces (it cannot see or signal the judge or the command line, nor reach the network),
    the file system read-only (nothing of the user's or the installed package can be written),
    a private empty /tmp, and ``readable`` folders bound read-only where /tmp would hide them;
    it dies with the judge, and everything it started dies with it (the namespace's first
    process is killed, and the kernel kills the rest)."""
    cmd = [bwrap_usable(), "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts",
           "--new-session", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
           "--setenv", "TMPDIR", "/tmp"]
    tmp = os.path.realpath(tempfile.gettempdir())
    seen = set()
    for path in readable:
        real = os.path.realpath(path)
        for p in {path, real}:
            if p and p not in seen and (p == tmp or p.startswith(tmp + os.sep) or p.startswith("/tmp/")) \
                    and os.path.exists(p):
                seen.add(p)
                cmd += ["--ro-bind", p, p]
    return cmd + ["--"]


def parse_size(text) -> int:
    """``8G``, ``512M``, ``1024`` (bytes) as a number of bytes; ``ValueError`` naming the form."""
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    t = str(text).strip().upper().removesuffix("B").removesuffix("I")
    number, unit = (t[:-1], t[-1]) if t and t[-1] in units and t[-1] != "" else (t, "")
    try:
        value = float(number) * units[unit]
    except ValueError:
        raise ValueError(f"{text!r}, but should be a size such as 8G, 512M or a number of bytes") from None
    if value <= 0:
        raise ValueError(f"{text!r}, but should be a positive size")
    return int(value)


def default_memory_limit() -> int:
    """Each executor's resident memory by default: generous (the machine's memory, at most 16
    GiB), so that a leak is stopped before it takes the machine down, not before it is large."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        physical = 1 << 34
    return int(min(physical, 1 << 34))


def resident_bytes(pid: int) -> int:
    """The resident memory of ``pid`` and every process below it, in bytes (0 if it is gone)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(v) for v in f.read().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class MemoryWatch:
    """Watches a process tree's resident memory from a thread of this process and kills the
    tree (``kill()``) once it holds more than ``limit`` bytes.  Resident memory, not address
    space: JIT runtimes (oneDNN, XLA, TBB) reserve far more address space than they touch, and an
    address-space limit would stop them where they are right."""

    def __init__(self, pid: int, limit: int | None, kill, interval: float = 0.05):
        self.pid, self.limit, self.kill, self.interval = pid, limit, kill, interval
        self.exceeded: int | None = None  # the resident bytes seen when it was killed
        self._stop = threading.Event()
        if limit:
            threading.Thread(target=self._watch, daemon=True, name=f"convspec-memory-{pid}").start()

    def _watch(self):
        while not self._stop.wait(self.interval):
            held = resident_bytes(self.pid)
            if not held and not os.path.exists(f"/proc/{self.pid}"):
                return
            if held > self.limit:
                self.exceeded = held
                self.kill()
                return

    def stop(self):
        self._stop.set()

    def note(self) -> str:
        """A message suffix when the watch killed the process, else ''."""
        if self.exceeded is None:
            return ""
        gib = 1 << 30
        return (f" (killed by convspec: the executor and what it started held {self.exceeded / gib:.3g} GiB of "
                f"resident memory, above the limit of {self.limit / gib:.3g} GiB: --memory-limit)")


def forbid_inspection() -> None:
    """Make this process non-dumpable: another process of the same (unprivileged) user can then
    neither read its memory nor open its descriptors through /proc.  Root can still."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0
    except (OSError, AttributeError):
        pass


def adopt_orphans() -> None:
    """Become a child subreaper: a process started below this one that its parent leaves
    (a daemon's double fork) is re-parented here, not to init, so it can be found and killed."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def children(pid: int | None = None) -> list[int]:
    """The live children of ``pid`` (default: this process), from /proc."""
    pid = pid or os.getpid()
    out = []
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            out = [int(v) for v in f.read().split()]
    except OSError:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                            out.append(int(entry))
                except (OSError, ValueError, IndexError):
                    continue
    return out


def kill_descendants(keep=()) -> None:
    """SIGKILL every process below this one (children first found, orphans adopted since;
    repeated until none is left), but the pids in ``keep``."""
    for _ in range(50):
        found = [c for c in children() if c not in keep]
        if not found:
            return
        for pid in found:
            for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
                try:
                    kill()
                except (ProcessLookupError, PermissionError):
                    pass
        for pid in found:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def state_of(pid: int) -> str | None:
    """The process's state letter from /proc (``T``: stopped); ``None`` if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None
