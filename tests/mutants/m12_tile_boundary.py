"""Output computed in tiles of 16 along the last axis; the last partial tile is skipped (left zero) past 16."""
import _base


def _tiled(fn):
    def op(x, w, **kw):
        y = fn(x, w, **kw)
        n = y.shape[-1]
        if n > 16 and n % 16:
            y[..., n - n % 16:] = 0
        return y
    return op


correlate = _tiled(_base.correlate)
convolve = _tiled(_base.convolve)
conv = _tiled(_base.conv)
