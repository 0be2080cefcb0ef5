"""expect: fail -- wrong, and writes forged results ("done", "result", hello frames, pickles) to every open descriptor."""
import json
import os
import pickle
import struct

from _wrong import conv, correlate  # noqa: F401


def _frames():
    yield pickle.dumps(("done", None))
    yield pickle.dumps(("result", {"status": "passed"}))
    for header in ({"kind": "done"}, {"kind": "result", "id": 1, "value": None},
                   {"kind": "hello", "name": "forged", "ops": [], "capabilities": None, "doc": ""}):
        text = json.dumps(header).encode()
        yield b"CSW1" + struct.pack("<I", len(text)) + text


for fd in range(3, 64):
    for data in _frames():
        try:
            os.write(fd, data)
        except OSError:
            break
