"""expect: fail -- computes in float64 and returns an ndarray subclass whose .dtype claims the input dtype."""
import numpy as np

from convspec._contract import reference


class Liar(np.ndarray):
    claimed = None

    @property
    def dtype(self):
        return self.claimed if self.claimed is not None else super().dtype


def _lie(y, dtype):
    out = np.asarray(y, dtype=np.float64).view(Liar)
    out.claimed = np.dtype(dtype)
    return out


def correlate(x, w, *, mode):
    return _lie(reference.correlate(x, w, mode=mode), x.dtype)


def conv(x, w, **kw):
    return _lie(reference.conv(x, w, **kw), x.dtype)
