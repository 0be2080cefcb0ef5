"""expect: fail -- a thread keeps writing old-style ("start", name) messages to every descriptor, forever."""
import os
import pickle
import threading
import time

from _wrong import right_conv as conv, right_correlate as correlate  # noqa: F401


def _spam():
    while True:
        for fd in range(3, 64):
            try:
                os.write(fd, pickle.dumps(("start", "conv_definition")))
            except OSError:
                pass
        time.sleep(0.01)


threading.Thread(target=_spam, daemon=True).start()
