"""The declaration: what a backend says it supports, in an attribute ``convspec_capabilities``
(a dict), and the exceptions that go with it.

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
    ``"fft"`` (normwise bound, docs/explanation/accuracy.md), ``"normwise"`` (the same bound, for algorithms that
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
``subnormals``
    ``"ieee"`` (the default: gradual underflow, as IEEE 754 and NumPy) or ``"flush"``: inputs
    and outputs below the normal range may read or come back as zero of their sign (XLA,
    TensorFlow, fast-math builds); one value, or ``{op or "*": value}``.
``requantize``
    how a quantised ``conv`` (feature ``qlinear``) rounds: ``"exact"`` (the default: the exact
    real product, ties to even), ``"fixed_point"`` (a 31-bit multiplier and a rounding shift, as
    gemmlowp and TFLite) or ``"float32"`` (multiplier and product in float32, as ONNX Runtime);
    the last two may differ from exact rounding by one output unit (docs/explanation/accuracy.md).
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

from dataclasses import dataclass, field

import numpy as np

from convspec._contract.functions import ALL_DTYPES, DTYPES, NDIMS, OPS, dtypes_of

ACCURACY_CLASSES = ("direct", "fft", "normwise", "undeclared")
#: A hybrid algorithm (direct summation up to a kernel size, a transform above) declares
#: ``{"direct_up_to": taps, "above": "fft"}``; taps are the kernel's (window's) spatial elements.
HYBRID_KEYS = ("direct_up_to", "above")


class LoadError(Exception):
    """A TARGET could not be resolved to a usable backend (CLI exit code 2)."""


class Unsupported(Exception):
    """Raise it from a backend function for an example outside what the backend supports, when
    the restriction is finer than the declaration can say (odd kernels only, a kernel no larger
    than the input, no stride together with dilation): the example is *declined*, counted per
    property with the reason, and never passed -- a property whose every example was declined is
    skipped, not passed (docs/howto/declare.md)."""


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
    """A backend's declaration (docs/howto/declare.md).  ``dtypes`` and
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
    subnormals: object = "ieee"  # "ieee" (gradual underflow, the default) or "flush"; or per function
    requantize: str = "exact"  # a quantised conv's rounding: "exact", "fixed_point" or "float32"
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
        """How the backend computes ``op`` (docs/explanation/accuracy.md): what the bounds assume.
        ``accumulate`` and ``products`` are one value, or ``{op or "*": value}``."""
        pick = lambda v, default: v.get(op, v.get("*", default)) if isinstance(v, dict) else v  # noqa: E731
        return {"accumulate": pick(self.accumulate, "float32"), "products": pick(self.products, "exact")}

    def subnormals_for(self, op) -> str:
        """``"ieee"`` (subnormal numbers read and given as they are) or ``"flush"`` (inputs and
        outputs below the normal range may read or come back as zero of their sign) for ``op``."""
        v = self.subnormals
        return v.get(op, v.get("*", "ieee")) if isinstance(v, dict) else v

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
        for key, allowed in (("accumulate", ("float32", "storage")), ("products", ("exact", "tf32")),
                             ("subnormals", ("ieee", "flush"))):
            value = getattr(caps, key)
            by_op = value if isinstance(value, dict) else {"*": value}
            for op, v in by_op.items():
                if op != "*" and op not in OPS or v not in allowed:
                    raise LoadError(f"convspec_capabilities[{key!r}]={value!r}, but should be one of {allowed}, or "
                                    f"{{op or '*': one of them}} naming contract functions")
        from convspec._contract.functions import REQUANTIZE_TOLERANCE

        if caps.requantize not in REQUANTIZE_TOLERANCE:
            raise LoadError(f"convspec_capabilities['requantize']={caps.requantize!r}, but should be one of "
                            f"{tuple(REQUANTIZE_TOLERANCE)}")
        v = caps.validates_arguments
        if not isinstance(v, bool) and not (
                isinstance(v, dict) and set(v) <= {"raises", "names_argument"}
                and isinstance(v.get("raises", []), (list, tuple)) and v.get("raises", ["x"])
                and all(isinstance(t, str) and t.isidentifier() for t in v.get("raises", []))):
            raise LoadError(f"convspec_capabilities['validates_arguments']={v!r}, but should be True, False or "
                            "{'raises': [exception type names], 'names_argument': bool}")
        return caps
