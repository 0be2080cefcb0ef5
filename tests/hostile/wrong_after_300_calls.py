"""right for its first 300 calls, off by one tap after (a pool that recycles buffers): caught by
<op>_sustained_calls in the default profile."""
from _wrong import correlate as _wrong_correlate, right_conv, right_correlate

_calls = [0]


def correlate(x, w, *, mode):
    _calls[0] += 1
    return (right_correlate if _calls[0] <= 300 else _wrong_correlate)(x, w, mode=mode)


def conv(x, w, **kw):
    return right_conv(x, w, **kw)
