"""The plain-data protocol between the judge and an executor (docs/explanation/isolation.md).

Only plain data crosses: a message is a JSON header (dicts, lists, strings, numbers,
booleans, ``None``) followed by raw array buffers.  Nothing is pickled, so reading a message
can run no code of the sender's.  Values in a header are tagged where JSON has no type of
its own:

* ``{"T": [...]}`` -- a tuple;
* ``{"A": i, "dtype": name, "shape": [...], "layout": name | None}`` -- an array whose
  C-ordered bytes are buffer ``i`` (``layout`` asks the receiver to hold the values in that
  non-contiguous layout, see :mod:`convspec._contract.memory_layouts`);
* ``{"O": type name, "repr": text}`` -- a value that is not plain data, described (the
  receiver never gets the object itself).

A frame is ``MAGIC``, the header's length (4 bytes, little-endian), the header, then the
buffers whose lengths the header lists under ``"B"``.  :class:`Channel` reads frames with a
deadline and raises :class:`ProtocolError` for anything that does not parse -- a malformed
message is the sender's failure, never a crash of the reader.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import select
import struct
import time

import numpy as np

MAGIC = b"CSW1"
_HEAD = struct.Struct("<4sI")
#: Largest JSON header accepted (a header carries shapes and keywords, never array data).
MAX_HEADER = 1 << 20

#: Array dtypes that may cross, by name (bfloat16 joins on first use when ml_dtypes is installed:
#: importing it takes most of a second, which every process would pay at start-up).
DTYPES = {name: np.dtype(name) for name in (
    "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
    "float16", "float32", "float64", "longdouble", "complex64", "complex128")}


def _known_dtype(name):
    if name == "bfloat16" and name not in DTYPES:
        try:
            import ml_dtypes
        except ImportError:  # pragma: no cover - depends on the environment
            return None
        DTYPES["bfloat16"] = np.dtype(ml_dtypes.bfloat16)
    return DTYPES.get(name)


class ProtocolError(Exception):
    """A message that does not parse as plain data of the expected form."""


class Closed(Exception):
    """The other side closed its end (it exited or was killed)."""


class TimedOut(Exception):
    """No complete message arrived before the deadline."""


def dtype_name(dtype) -> str | None:
    """The name under which ``dtype`` crosses, or ``None`` if it may not cross."""
    dtype = np.dtype(dtype)
    if dtype.name == "bfloat16":  # made by ml_dtypes, so it is imported already
        _known_dtype("bfloat16")
    for name, known in DTYPES.items():
        if dtype == known and dtype.names is None:
            return name
    return None


# ------------------------------------------------------------------ encoding


def encode(value, buffers: list, *, describe_unknown=False):
    """``value`` as a JSON-able tree; array bytes are appended to ``buffers``.

    ``describe_unknown``: objects that are not plain data become ``{"O": type, "repr": …}``
    instead of raising ``TypeError``.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        plain = value.view(np.ndarray) if type(value) is not np.ndarray else value
        name = dtype_name(plain.dtype)
        if name is None:
            if describe_unknown:
                return {"O": "ndarray", "repr": f"array of dtype {plain.dtype}", "dtype": str(plain.dtype),
                        "shape": list(plain.shape)}
            raise TypeError(f"arrays of dtype {plain.dtype} cannot cross")
        from convspec._contract.memory_layouts import layout_of

        data = np.ascontiguousarray(plain).reshape(plain.shape)  # ascontiguousarray makes a 0-d array 1-d
        buffers.append(data.reshape(-1).view(np.uint8) if data.size else b"")
        return {"A": len(buffers) - 1, "dtype": name, "shape": list(plain.shape), "layout": layout_of(value)}
    if isinstance(value, tuple):
        return {"T": [encode(v, buffers, describe_unknown=describe_unknown) for v in value]}
    if isinstance(value, list):
        return [encode(v, buffers, describe_unknown=describe_unknown) for v in value]
    if isinstance(value, (set, frozenset)):
        try:
            items = sorted(value)
        except TypeError:
            items = list(value)
        return {"T": [encode(v, buffers, describe_unknown=describe_unknown) for v in items]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"D": {k: encode(v, buffers, describe_unknown=describe_unknown) for k, v in value.items()}}
    if describe_unknown:
        return {"O": type(value).__name__, "repr": safe_repr(value)}
    raise TypeError(f"{type(value).__name__} is not plain data")


def safe_repr(value, limit=200) -> str:
    """``repr(value)`` cut to ``limit`` characters; never raises."""
    try:
        text = repr(value)
    except BaseException as e:  # a hostile __repr__
        text = f"<{type(value).__name__} whose repr raised {type(e).__name__}>"
    return text if len(text) <= limit else text[:limit] + "…"


class Described:
    """A value that did not cross as plain data: its type name and a short repr."""

    def __init__(self, type_name: str, text: str, dtype: str | None = None, shape=None):
        self.type_name, self.text, self.dtype, self.shape = type_name, text, dtype, shape

    def __repr__(self):
        return f"<{self.type_name}: {self.text}>"


def decode(tree, buffers: list, *, rebuild_layouts=False):
    """The value ``tree`` stands for; raises :class:`ProtocolError` for anything unexpected.

    Arrays come back as plain, writable ``np.ndarray`` of an allowed dtype.
    ``rebuild_layouts`` holds them in the layout the sender named (the executor does this so
    the backend sees the judge's non-contiguous views).
    """
    if tree is None or isinstance(tree, (bool, str, int)):
        return tree
    if isinstance(tree, float):
        return tree
    if isinstance(tree, list):
        return [decode(v, buffers, rebuild_layouts=rebuild_layouts) for v in tree]
    if not isinstance(tree, dict) or len(tree) == 0:
        raise ProtocolError(f"unexpected value {safe_repr(tree, 80)}")
    if "T" in tree and len(tree) == 1 and isinstance(tree["T"], list):
        return tuple(decode(v, buffers, rebuild_layouts=rebuild_layouts) for v in tree["T"])
    if "D" in tree and len(tree) == 1 and isinstance(tree["D"], dict):
        return {str(k): decode(v, buffers, rebuild_layouts=rebuild_layouts) for k, v in tree["D"].items()}
    if "O" in tree:
        shape = tree.get("shape")
        return Described(str(tree["O"])[:100], str(tree.get("repr", ""))[:300], str(tree.get("dtype", ""))[:100] or None,
                         tuple(shape) if isinstance(shape, list) and all(type(s) is int for s in shape) else None)
    if "A" in tree:
        return _array(tree, buffers, rebuild_layouts)
    raise ProtocolError(f"unexpected value {safe_repr(tree, 80)}")


def _array(tree, buffers, rebuild_layouts):
    index, name, shape = tree.get("A"), tree.get("dtype"), tree.get("shape")
    if type(index) is not int or not 0 <= index < len(buffers):
        raise ProtocolError(f"array refers to buffer {safe_repr(index, 40)} of {len(buffers)}")
    if not isinstance(name, str) or _known_dtype(name) is None:
        raise ProtocolError(f"array of dtype {safe_repr(name, 40)}, which may not cross")
    if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape) or len(shape) > 32:
        raise ProtocolError(f"array shape {safe_repr(shape, 80)} is not a list of non-negative ints")
    dtype = DTYPES[name]
    buf = buffers[index]
    if len(buf) != math.prod(shape) * dtype.itemsize:
        raise ProtocolError(f"array of shape {tuple(shape)} and dtype {name} came with {len(buf)} bytes")
    a = np.frombuffer(buf, dtype=dtype).reshape(shape) if len(buf) else np.zeros(shape, dtype=dtype)
    if not a.flags.writeable:
        a = a.copy()
    layout = tree.get("layout")
    if rebuild_layouts and layout is not None:
        from convspec._contract.memory_layouts import LAYOUTS, as_layout

        if layout not in LAYOUTS:
            raise ProtocolError(f"unknown layout {safe_repr(layout, 40)}")
        a = as_layout(a, layout)
    return a


# ------------------------------------------------------------------ framing


def frame(header: dict, buffers: list) -> list:
    """The pieces of one message (write them in order)."""
    header = dict(header, B=[memoryview(b).nbytes for b in buffers])
    text = json.dumps(header, separators=(",", ":")).encode()
    return [_HEAD.pack(MAGIC, len(text)) + text, *buffers]


def send(fd: int, header: dict, buffers=(), deadline: float | None = None) -> None:
    """Write one message to ``fd``; :class:`TimedOut` if the reader does not take it before
    ``deadline`` (a :func:`time.monotonic` time), :class:`Closed` if the reader is gone."""
    for piece in frame(header, list(buffers)):
        view = memoryview(piece).cast("B")
        while len(view):
            try:
                n = os.write(fd, view)
            except BlockingIOError:
                wait = None if deadline is None else deadline - time.monotonic()
                if wait is not None and wait <= 0:
                    raise TimedOut() from None
                select.select([], [fd], [], wait)
                continue
            except (BrokenPipeError, ConnectionResetError):
                raise Closed() from None
            view = view[n:]


class Signer:
    """Frames a reader can trust: each header carries its sequence number and an HMAC-SHA256 of
    both under a key only the two ends hold (handed over on an inherited descriptor, never on a
    command line), so a third process that opens the pipe cannot forge, replay or reorder one."""

    def __init__(self, key: bytes):
        self.key = key
        self.sent = 0
        self.received = 0

    def _mac(self, header: dict) -> str:
        text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
        return hmac.new(self.key, text, hashlib.sha256).hexdigest()

    def sign(self, header: dict) -> dict:
        self.sent += 1
        header = dict(header, seq=self.sent)
        return dict(header, mac=self._mac(header))

    def verify(self, header: dict) -> dict:
        """The header without its seal; :class:`ProtocolError` if the seal is wrong or out of order."""
        mac = header.pop("mac", None)
        if not isinstance(mac, str) or not hmac.compare_digest(mac, self._mac(header)):
            raise ProtocolError("a message whose seal does not verify (not written by the judge)")
        if header.get("seq") != self.received + 1:
            raise ProtocolError(f"message {safe_repr(header.get('seq'), 20)} out of order (expected {self.received + 1})")
        self.received += 1
        header.pop("seq")
        return header


class Channel:
    """Reads messages from a file descriptor, each within a deadline.

    ``max_bytes`` bounds the buffers of one message, so a forged length cannot make the
    reader allocate without limit.
    """

    def __init__(self, fd: int, *, max_bytes: int = 1 << 33):
        self.fd = fd
        self.max_bytes = max_bytes
        os.set_blocking(fd, False)

    def _fill(self, view: memoryview, deadline: float | None) -> None:
        while len(view):
            try:
                n = os.readv(self.fd, [view])
            except BlockingIOError:
                n = None
            except InterruptedError:
                continue
            if n == 0:
                raise Closed()
            if n:
                view = view[n:]
                continue
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                raise TimedOut()
            ready, _, _ = select.select([self.fd], [], [], wait)
            if not ready and deadline is not None and time.monotonic() >= deadline:
                raise TimedOut()

    def recv(self, deadline: float | None = None, max_bytes: int | None = None) -> tuple[dict, list]:
        """One message ``(header, buffers)``; :class:`Closed`, :class:`TimedOut` or
        :class:`ProtocolError` otherwise.  ``deadline`` is a :func:`time.monotonic` time;
        ``max_bytes`` bounds this message's buffers further (what the reader expects)."""
        head = bytearray(_HEAD.size)
        self._fill(memoryview(head), deadline)
        magic, length = _HEAD.unpack(head)
        if magic != MAGIC:
            raise ProtocolError(f"message starts with {bytes(head)!r}, not a convspec frame")
        if length > MAX_HEADER:
            raise ProtocolError(f"message header of {length} bytes (at most {MAX_HEADER})")
        text = bytearray(length)
        self._fill(memoryview(text), deadline)
        try:
            header = json.loads(text.decode())
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            raise ProtocolError(f"message header is not JSON: {e}") from None
        if not isinstance(header, dict):
            raise ProtocolError(f"message header is {type(header).__name__}, not an object")
        sizes = header.pop("B", [])
        if not isinstance(sizes, list) or not all(type(s) is int and s >= 0 for s in sizes):
            raise ProtocolError(f"message buffer sizes {safe_repr(sizes, 80)} are not non-negative ints")
        limit = self.max_bytes if max_bytes is None else min(self.max_bytes, max_bytes)
        if sum(sizes) > limit:
            raise ProtocolError(f"message announces {sum(sizes)} bytes (at most {limit} expected)")
        buffers = []
        for size in sizes:
            buf = bytearray(size)
            self._fill(memoryview(buf), deadline)
            buffers.append(buf)
        return header, buffers
