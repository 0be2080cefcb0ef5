"""Arguments swapped when the kernel is longer than the input (as numpy.correlate does): reverses correlation."""
import _base
from _base import conv  # noqa: F401


def correlate(x, w, *, mode):
    if w.size > x.size and mode == "full":
        return _base.correlate(w, x, mode=mode)
    return _base.correlate(x, w, mode=mode)


def convolve(x, w, *, mode):
    if w.size > x.size and mode == "same":
        # 'same' is relative to the first argument: swapping changes the output length and centre
        full = _base.convolve(w, x, mode="full")
        start = tuple((k - 1) // 2 for k in w.shape)
        return full[tuple(slice(s, s + m) for s, m in zip(start, x.shape))]
    return _base.convolve(x, w, mode=mode)
