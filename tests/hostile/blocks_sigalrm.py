"""expect: fail -- every call blocks SIGALRM and SIGTERM, then spins forever."""
import signal

signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGTERM, signal.SIGINT})
for s in (signal.SIGALRM, signal.SIGTERM):
    signal.signal(s, signal.SIG_IGN)


def correlate(x, w, *, mode):
    while True:
        pass


def conv(x, w, **kw):
    while True:
        pass
