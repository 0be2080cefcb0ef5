"""Backends: resolving a TARGET into a :class:`Backend`, and calling it in this process (the
pytest route; the command line's executor calls it in its own, see ``remote``).

A TARGET is a bundled backend's name, a shipped adapter's, an entry point of the group
``convspec.backends``, an import path ``pkg.mod[:attr]`` or a file ``path/to/file.py[:attr]``;
its declaration (``convspec_capabilities``) is read by :mod:`convspec._contract.declaration`.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import signal
import sys
import threading
import traceback
from dataclasses import dataclass, field

import numpy as np

from convspec._contract.declaration import Capabilities, LoadError, Unsupported  # noqa: F401  (re-exported)
from convspec._contract.functions import OPS

ENTRY_POINT_GROUP = "convspec.backends"

class CallTimeout(BaseException):
    """A backend call exceeded the per-call time limit."""


class CallCrashed(BaseException):
    """The process running a backend call died, or answered with something that does not parse."""


@dataclass(frozen=True)
class Raised:
    """An exception a backend call raised, as plain data (it may have crossed from the executor)."""

    type: str
    mro: tuple = ()
    message: str = ""
    where: str = ""

    @classmethod
    def of(cls, e: BaseException) -> "Raised":
        frames = traceback.extract_tb(e.__traceback__)
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""
        return cls(type(e).__name__, tuple(c.__name__ for c in type(e).__mro__ if c is not object), str(e), where)

    def is_a(self, name: str) -> bool:
        return name in self.mro


@dataclass
class Outcome:
    """What one backend call gave: a value, or the exception it raised (``raised``).

    ``shares_input`` lists the arguments whose memory the result shares, ``shares_previous``
    the handles of earlier results it shares memory with; ``handle`` names the result for
    :meth:`Backend.current`.
    """

    value: object = None
    raised: Raised | None = None
    shares_input: tuple = ()
    shares_previous: tuple = ()
    handle: object = None


class _time_limit:
    """Per-call time limit via SIGALRM, for backends run in this process (main thread only).

    Only the pytest route runs backends in-process; the command line's executor is limited
    from outside (:mod:`convspec._engine.remote`), whatever the backend does to signals.
    """

    def __init__(self, seconds):
        self.seconds = seconds
        self.active = bool(seconds) and threading.current_thread() is threading.main_thread()

    def __enter__(self):
        if self.active:
            self.previous = signal.signal(signal.SIGALRM, self._expire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def _expire(self, *_):
        raise CallTimeout()

    def __exit__(self, *exc):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


@dataclass
class Backend:
    """A resolved backend: the user's object plus its name and declared capabilities."""

    name: str
    target: str
    obj: object = field(repr=False)
    capabilities: Capabilities

    @property
    def ops(self) -> tuple[str, ...]:
        """Contract functions that exist on the object and are not excluded by the declaration."""
        return tuple(op for op in OPS if op in self.capabilities.ops and callable(getattr(self.obj, op, None)))

    def __getattr__(self, op):
        if op in OPS:
            fn = getattr(self.obj, op, None)
            if callable(fn):
                return fn
        raise AttributeError(f"backend {self.name!r} has no {op!r}")

    @property
    def doc(self) -> str:
        doc = getattr(self.obj, "__doc__", None)
        return doc if isinstance(doc, str) else ""

    def invoke(self, op, args, kwargs, timeout=None) -> Outcome:
        """Call ``op`` here, in this process (the pytest route); :class:`CallTimeout` past ``timeout``."""
        fn = getattr(self, op)
        try:
            with _time_limit(timeout):
                y = fn(*args, **kwargs)
        except CallTimeout:
            raise
        except (Exception, SystemExit) as e:
            return Outcome(raised=Raised.of(e))
        shares = ()
        if isinstance(y, np.ndarray):
            shares = tuple(i for i, a in enumerate(args) if isinstance(a, np.ndarray) and np.shares_memory(y, a))
        return Outcome(value=y, shares_input=shares, handle=y)

    def current(self, handle):
        """The current contents of an earlier result (here: the result itself)."""
        return handle

    def __repr__(self):
        return f"Backend({self.name!r})"


def bundled_names() -> dict[str, str]:
    from convspec.impls import BUNDLED

    return dict(BUNDLED)


def adapter_names() -> dict[str, tuple]:
    """Shipped adapters: name -> (module, the package it needs, what it covers)."""
    from convspec._adapters import ADAPTERS

    return dict(ADAPTERS)


def adapter_available(name: str) -> bool:
    return importlib.util.find_spec(adapter_names()[name][1]) is not None


def adapter_unusable(name: str) -> str | None:
    """Why the shipped adapter ``name`` cannot check its library here (not installed, or a
    device it needs is missing); ``None`` if it can."""
    from convspec._adapters import UNUSABLE

    if not adapter_available(name):
        return f"{adapter_names()[name][1]} is not installed"
    probe = UNUSABLE.get(name)
    return probe() if probe else None


def entry_point_names() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def _import_file(path: str):
    if not os.path.isfile(path):
        raise LoadError(f"TARGET file {path!r} does not exist")
    path = os.path.abspath(path)
    name = "convspec_user_" + os.path.splitext(os.path.basename(path))[0].replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise LoadError(f"TARGET file {path!r} is not a Python source file (expected path/to/file.py)")
    module = importlib.util.module_from_spec(spec)
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # so the file can import its neighbours
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        sys.modules.pop(name, None)
        raise LoadError(f"TARGET file {path!r} failed to import: {type(e).__name__}: {e}") from e
    return module


def _import_module(path: str):
    try:
        return importlib.import_module(path)
    except Exception as e:
        raise LoadError(f"TARGET module {path!r} failed to import: {type(e).__name__}: {e}") from e


def split_target(target: str) -> tuple[str, str]:
    """``(path or module, attribute)`` of ``pkg.mod[:attr]`` / ``file.py[:attr]`` (a path
    that exists is taken whole, colons and all)."""
    if os.path.exists(target):
        return target, ""
    base, _, attr = target.partition(":")
    return base, attr


def _is_file(base: str) -> bool:
    return base.endswith(".py") or os.sep in base or os.path.isfile(base)


def short_name(target: str) -> str:
    """The display name of TARGET, found without importing it: a bundled backend's or entry
    point's name, the attribute, the file's stem, or the module's last component."""
    if target in bundled_names() or target in adapter_names() or target in entry_point_names():
        return target
    base, attr = split_target(target)
    if attr:
        return attr
    if _is_file(base):
        return os.path.splitext(os.path.basename(base.rstrip(os.sep)))[0]
    return base.rsplit(".", 1)[-1]


def target_kind(target: str) -> str:
    """How TARGET is found, without importing anything of it: ``"bundled"``, ``"entry-point"``,
    ``"file"`` or ``"module"``; :class:`LoadError` if it is none of them."""
    if target in bundled_names():
        return "bundled"
    if target in adapter_names():
        return "adapter"
    if target in entry_point_names():
        return "entry-point"
    base, _ = split_target(target)
    if _is_file(base):
        return "file"
    if base.replace(".", "").replace("_", "").isalnum():
        return "module"
    raise LoadError(
        f"TARGET={target!r}, but should be a bundled backend ({', '.join(sorted(bundled_names()))}), "
        "an entry point, pkg.mod[:attr] or path/to/file.py[:attr]"
    )


def resolve(target: str):
    """The object a TARGET names, and a short display name for it (:func:`short_name`)."""
    kind = target_kind(target)
    if kind == "bundled":
        return _import_module(bundled_names()[target]), target
    if kind == "adapter":
        module, package, _ = adapter_names()[target]
        if not adapter_available(target):
            raise LoadError(f"the adapter {target!r} needs the package {package!r}, which is not installed here "
                            f"(pip install {package}); convspec itself does not require it")
        return _import_module(module), target
    if kind == "entry-point":
        try:
            return entry_point_names()[target].load(), target
        except Exception as e:
            raise LoadError(f"entry point {target!r} failed to load: {type(e).__name__}: {e}") from e
    base, attr = split_target(target)
    module = _import_file(base) if kind == "file" else _import_module(base)
    if not attr:
        return module, short_name(target)
    try:
        obj = getattr(module, attr)
    except AttributeError:
        raise LoadError(f"TARGET={target!r}, but {base!r} has no attribute {attr!r}") from None
    if isinstance(obj, type):
        try:
            obj = obj()
        except Exception as e:
            raise LoadError(f"TARGET={target!r}: instantiating {attr} failed: {type(e).__name__}: {e}") from e
    return obj, attr


def load_backend(target) -> Backend:
    """Resolve TARGET exactly as ``convspec check`` does.

    TARGET is a bundled backend's name (``naive``, ``im2col``, ``fft``, ``numba``), a shipped
    adapter's (``torch``, ``scipy``, ``scipy-ndimage``: the library as it is), a name
    registered in the entry-point group ``convspec.backends``, an import path
    ``pkg.mod[:attr]`` or a file ``path/to/file.py[:attr]``.  An object that already has
    contract functions is wrapped as it is.  Raises :class:`LoadError` when the target cannot
    be loaded or has no contract function.
    """
    if isinstance(target, Backend):
        return target
    if isinstance(target, str):
        obj, name = resolve(target)
    else:
        obj, name, target = target, getattr(target, "__name__", type(target).__name__), repr(target)
    caps = Capabilities.declared(getattr(obj, "convspec_capabilities", None))
    backend = Backend(name=name, target=target, obj=obj, capabilities=caps)
    if not backend.ops:
        raise LoadError(
            f"TARGET={target!r} has none of the contract functions {', '.join(OPS)} "
            "(or its convspec_capabilities['ops'] excludes them all)"
        )
    return backend
