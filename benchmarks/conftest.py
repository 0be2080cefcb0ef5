import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def pytest_addoption(parser):
    parser.addoption("--resnet", action="store_true", help="benchmark every ResNet-50 layer at batch 1 and 8")
    parser.addoption("--full", action="store_true", help="the whole signal, image, volume and separable problem sets")


class Progress:
    """A one-line progress bar with the elapsed time and an estimate of the time left."""

    def __init__(self, total):
        self.total, self.done, self.start = total, 0, time.monotonic()
        self.tty = sys.stderr.isatty()

    def step(self, nodeid):
        self.done += 1
        elapsed = time.monotonic() - self.start
        left = elapsed / self.done * (self.total - self.done)
        filled = int(30 * self.done / max(self.total, 1))
        line = (f"[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} "
                f"{elapsed:5.0f}s elapsed, ~{left:4.0f}s left  {nodeid.split('::')[-1][:60]}")
        if self.tty:
            sys.stderr.write("\r" + line.ljust(130) + ("\n" if self.done == self.total else ""))
        elif self.done == self.total or self.done % max(1, self.total // 20) == 0:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


_progress = None


def pytest_collection_finish(session):
    global _progress
    _progress = Progress(len(session.items))


def pytest_runtest_logfinish(nodeid, location):
    if _progress is not None:
        _progress.step(nodeid)
