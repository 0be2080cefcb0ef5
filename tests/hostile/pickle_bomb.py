"""expect: load-error -- at import, writes a pickle whose unpickling would exit the reader with 0."""
import os
import pickle


class _Exit:
    def __reduce__(self):
        return (os._exit, (0,))


for fd in range(1, 64):
    try:
        os.write(fd, pickle.dumps(("result", _Exit())))
    except OSError:
        pass


def correlate(x, w, *, mode):
    raise RuntimeError("never reached")
