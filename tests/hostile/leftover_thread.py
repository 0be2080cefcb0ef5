"""expect: pass -- correct, but leaves a non-daemon thread running forever."""
import threading
import time

from _wrong import right_conv as conv, right_correlate as correlate  # noqa: F401

threading.Thread(target=lambda: time.sleep(10**6), daemon=False).start()
