"""Backends: resolving a TARGET, and the capability declaration that drives skips.

A backend is any object or module with some of the contract functions
(:data:`convspec._contract.functions.OPS`).  It may declare what it supports in an attribute
``convspec_capabilities``, a dict with any of these keys:

``dtypes``
    subset of ``("float32", "float64")`` (default: both).  The others must raise.  ``int8``
    and ``uint8`` may be declared for ``conv``, ``max_pool`` and ``adaptive_max_pool``
    (:data:`convspec._contract.functions.INTEGER_OPS`); integer data is never assumed.
``ndims``
    subset of ``(1, 2, 3)``, the number of spatial axes (default: all).  The others must raise.
``ops``
    which contract functions to check (default: every one that exists).
``accuracy``
    ``"direct"`` (elementwise error bound, bit-exact on exactly representable data) or
    ``"fft"`` (normwise bound, README: Accuracy model), ``"normwise"`` (the same bound, for algorithms that
    are not transforms: running sums, recursive filters).  Without a declaration the backend is held to the
    loosest bound convspec knows (the FFT one), since its algorithm is unknown: declare
    ``"direct"`` to be checked bit for bit.
``validates_arguments``
    ``True`` if bad arguments raise ``ValueError`` (checked by ``rejects_bad_arguments``).
``biases``
    ``True`` if ``conv``, ``local_conv`` and ``tiled_conv`` take the ``bias`` keyword.
``accumulate``
    how float16/bfloat16 inputs are summed: ``"float32"`` (the default, and the strictest bound
    a correct kernel meets) or ``"storage"`` (every product and partial sum rounded to the
    input dtype); one value, or ``{op or "*": value}`` (like ``products``).
``products``
    how float32 products are formed: ``"exact"`` (the default) or ``"tf32"`` (inputs rounded
    to TF32's 10-bit mantissa, as tensor cores do).
``reasons``
    ``{op: why}`` for contract functions the backend leaves out on purpose; the reason is
    shown where their properties are skipped.
``features``
    optional parts of the contract the backend takes part in (:data:`convspec._contract.restrictions.FEATURES`:
    ``pool_dilation``, ``pool_padding_to_window``), a list or ``{op or "*": [...]}`` like
    ``restrictions``; undeclared, they are never drawn.
``restrictions``
    names from :data:`convspec._contract.restrictions.RESTRICTIONS` (``integer_p``, ``odd_kernels``,
    ``no_stride_with_dilation``, ...): valid cases the backend does not support, a list for
    every function they apply to or ``{op or "*": [...]}``.  Excluded examples are declined,
    never passed; the cases must raise.

This one declaration drives the skips, the report and the docs alike.
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

from convspec._contract.functions import ALL_DTYPES, DTYPES, NDIMS, OPS, dtypes_of

ACCURACY_CLASSES = ("direct", "fft", "normwise", "undeclared")
#: A hybrid algorithm (direct summation up to a kernel size, a transform above) declares
#: ``{"direct_up_to": taps, "above": "fft"}``; taps are the kernel's (window's) spatial elements.
HYBRID_KEYS = ("direct_up_to", "above")
ENTRY_POINT_GROUP = "convspec.backends"


class LoadError(Exception):
    """A TARGET could not be resolved to a usable backend (CLI exit code 2)."""


class Unsupported(Exception):
    """Raise it from a backend function for an example outside what the backend supports, when
    the restriction is finer than the declaration can say (odd kernels only, a kernel no larger
    than the input, no stride together with dilation): the example is *declined*, counted per
    property with the reason, and never passed -- a property whose every example was declined is
    skipped, not passed (README: Check your own implementation)."""


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


def _subset(what, value, allowed) -> tuple:
    """``value`` as a tuple, a non-empty subset of ``allowed``; :class:`LoadError` otherwise."""
    value = tuple(value) if isinstance(value, (list, tuple, set)) else value
    if not isinstance(value, tuple) or not set(value) <= set(allowed):
        raise LoadError(f"{what}={value!r}, but should be a subset of {allowed}")
    if not value:
        raise LoadError(f"{what}={list(value)!r}, but should name at least one of {allowed}: a backend that supports "
                        "none has nothing to check")
    return value


@dataclass(frozen=True, eq=False)
class Capabilities:
    """A backend's declaration (README: Check your own implementation).  ``dtypes`` and
    ``ndims`` are tuples, the union over the functions; ``per_op`` holds the narrower ones of
    a per-function declaration (``{"dtypes": {"avg_pool": ["float32"], "*": [...]}}``)."""

    dtypes: tuple[str, ...] = DTYPES
    ndims: tuple[int, ...] = NDIMS
    ops: tuple[str, ...] = OPS
    accuracy: str = "undeclared"
    validates_arguments: bool = False
    biases: bool = False
    accumulate: object = "float32"  # float16/bfloat16 inputs: "float32" (the default) or "storage"; or per function
    products: object = "exact"  # float32 inputs: "exact" (the default) or "tf32"; or per function
    reasons: dict = field(default_factory=dict)
    restrictions: dict = field(default_factory=dict)  # {op: (restriction names)}
    features: dict = field(default_factory=dict)  # {op: (feature names)}
    per_op: dict = field(default_factory=dict)  # {"dtypes": {op: tuple}, "ndims": {op: tuple}}

    def as_json(self) -> dict:
        """The declaration as plain data (lists for tuples; per-function forms as they were given)."""
        out = {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()
               if k not in ("per_op", "restrictions", "features")}
        for key in ("restrictions", "features"):
            if getattr(self, key):
                out[key] = {op: list(v) for op, v in getattr(self, key).items()}
        for key, by_op in self.per_op.items():
            out[key] = {op: list(v) for op, v in by_op.items()}
        return out

    def validation(self) -> tuple[tuple, bool]:
        """``(exception type names, whether the message names the argument)`` that bad arguments
        must raise: ``validates_arguments`` True means ValueError naming convspec's argument."""
        v = self.validates_arguments
        if isinstance(v, dict):
            return tuple(v.get("raises", ("ValueError",))), bool(v.get("names_argument", False))
        return ("ValueError",), True

    def arithmetic_for(self, op) -> dict:
        """How the backend computes ``op`` (README: Accuracy model): what the bounds assume.
        ``accumulate`` and ``products`` are one value, or ``{op or "*": value}``."""
        pick = lambda v, default: v.get(op, v.get("*", default)) if isinstance(v, dict) else v  # noqa: E731
        return {"accumulate": pick(self.accumulate, "float32"), "products": pick(self.products, "exact")}

    def restrictions_for(self, op) -> tuple:
        """The restriction names declared for ``op``."""
        return self.restrictions.get(op, ())

    def has_feature(self, feature, *ops) -> bool:
        """Whether every one of ``ops`` declares the optional contract feature ``feature``."""
        return all(feature in self.features.get(op, ()) for op in ops)

    def accuracy_for(self, op, args=None, kwargs=None) -> str:
        """The accuracy class of one call: a hybrid declaration resolves by the kernel's (or
        window's) spatial size; without a call, the class above the threshold (the looser)."""
        if isinstance(self.accuracy, str):
            return self.accuracy
        from convspec._contract.restrictions import KERNEL_OPS, kernel_shape

        taps = None
        if args is not None and op in KERNEL_OPS:
            taps = int(np.prod(kernel_shape(op, args, kwargs or {})))
        elif args is not None and kwargs and "window" in kwargs:
            taps = int(np.prod(kwargs["window"]))
        if taps is not None and taps <= self.accuracy["direct_up_to"]:
            return "direct"
        return self.accuracy["above"]

    def dtypes_for(self, op) -> tuple:
        return self.per_op.get("dtypes", {}).get(op, self.per_op.get("dtypes", {}).get("*", self.dtypes))

    def ndims_for(self, op) -> tuple:
        return self.per_op.get("ndims", {}).get(op, self.per_op.get("ndims", {}).get("*", self.ndims))

    def narrowed_for(self, op) -> bool:
        """Whether some dtype or dimension is declared unsupported for ``op``."""
        return not set(DTYPES) <= set(self.dtypes_for(op)) or set(self.ndims_for(op)) != set(NDIMS)

    @property
    def narrowed(self) -> bool:
        """Whether some dtype or dimension is declared unsupported (for some function)."""
        return any(self.narrowed_for(op) for op in self.ops)

    @classmethod
    def declared(cls, decl) -> "Capabilities":
        if decl is None:
            return cls()
        if not isinstance(decl, dict):
            raise LoadError(f"convspec_capabilities={decl!r}, but should be a dict")
        known = {f for f in cls.__dataclass_fields__} - {"per_op"}
        unknown = set(decl) - known
        if unknown:
            raise LoadError(
                f"convspec_capabilities has unknown keys {sorted(unknown)}, but should use only {sorted(known)}"
            )
        decl = dict(decl)
        per_op = {}
        for name, allowed in (("dtypes", ALL_DTYPES), ("ndims", NDIMS)):
            if isinstance(decl.get(name), dict):  # per function: {op or "*": [...]}
                by_op = {}
                for op, value in decl[name].items():
                    if op != "*" and op not in OPS:
                        raise LoadError(f"convspec_capabilities[{name!r}] names {op!r}, but should name contract "
                                        f"functions ({', '.join(OPS)}) or '*'")
                    by_op[op] = _subset(f"convspec_capabilities[{name!r}][{op!r}]", value,
                                        dtypes_of(op) if name == "dtypes" else allowed)
                per_op[name] = by_op
                decl[name] = tuple(v for v in allowed if any(v in vs for vs in by_op.values())
                                   or "*" not in by_op and len(by_op) < len(OPS))
        from convspec._contract.restrictions import FEATURES, declared as declared_names

        try:
            decl["restrictions"] = declared_names(decl.get("restrictions"), OPS)
            decl["features"] = declared_names(decl.get("features"), OPS, key="features",
                                              vocabulary={n: f[0] for n, f in FEATURES.items()})
        except ValueError as e:
            raise LoadError(str(e)) from None
        caps = cls(**{k: tuple(v) if isinstance(v, (list, tuple, set)) else v for k, v in decl.items()}, per_op=per_op)
        from convspec._contract.restrictions import RESTRICTIONS

        for op, names in caps.restrictions.items():
            for n in names:
                if not set(RESTRICTIONS[n].dtypes) & set(caps.dtypes_for(op)):
                    raise LoadError(f"convspec_capabilities['restrictions'] has {n!r} for {op}, which is about "
                                    f"{', '.join(RESTRICTIONS[n].dtypes)} data, but {op} declares only "
                                    f"{', '.join(caps.dtypes_for(op))}")
        if not isinstance(caps.reasons, dict):
            raise LoadError(f"convspec_capabilities['reasons']={caps.reasons!r}, but should be a dict {{op: why}}")
        for name, allowed in (("dtypes", ALL_DTYPES), ("ndims", NDIMS), ("ops", OPS)):
            _subset(f"convspec_capabilities[{name!r}]", getattr(caps, name), allowed)
        a = caps.accuracy
        hybrid = isinstance(a, dict) and set(a) == set(HYBRID_KEYS) and isinstance(a["direct_up_to"], int) \
            and not isinstance(a["direct_up_to"], bool) and a["direct_up_to"] >= 1 and a["above"] in ("fft", "normwise")
        if not hybrid and (not isinstance(a, str) or a not in ACCURACY_CLASSES):
            raise LoadError(
                f"convspec_capabilities['accuracy']={a!r}, but should be one of {ACCURACY_CLASSES}, or a hybrid "
                "{'direct_up_to': taps (int >= 1), 'above': 'fft' or 'normwise'}"
            )
        for key, allowed in (("accumulate", ("float32", "storage")), ("products", ("exact", "tf32"))):
            value = getattr(caps, key)
            by_op = value if isinstance(value, dict) else {"*": value}
            for op, v in by_op.items():
                if op != "*" and op not in OPS or v not in allowed:
                    raise LoadError(f"convspec_capabilities[{key!r}]={value!r}, but should be one of {allowed}, or "
                                    f"{{op or '*': one of them}} naming contract functions")
        v = caps.validates_arguments
        if not isinstance(v, bool) and not (
                isinstance(v, dict) and set(v) <= {"raises", "names_argument"}
                and isinstance(v.get("raises", []), (list, tuple)) and v.get("raises", ["x"])
                and all(isinstance(t, str) and t.isidentifier() for t in v.get("raises", []))):
            raise LoadError(f"convspec_capabilities['validates_arguments']={v!r}, but should be True, False or "
                            "{'raises': [exception type names], 'names_argument': bool}")
        return caps


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


def _resolve(target: str):
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
        obj, name = _resolve(target)
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
