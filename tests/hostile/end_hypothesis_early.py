"""expect: fail -- wrong, and tries to end hypothesis' test case early through its build context."""
from _wrong import conv as _conv
from _wrong import correlate as _correlate


def _end_early():
    try:
        from hypothesis.control import current_build_context

        context = current_build_context()
        context.data.mark_interesting = lambda *a, **k: None
        context.data.conclude_test(0)  # Status.OVERRUN: treat the example as never having happened
    except Exception:
        pass


def correlate(x, w, *, mode):
    _end_early()
    return _correlate(x, w, mode=mode)


def conv(x, w, **kw):
    _end_early()
    return _conv(x, w, **kw)
