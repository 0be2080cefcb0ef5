"""The property catalogue (docs/reference/catalogue.md): every property, in one place, by name.

``signal`` -- ``correlate`` and ``convolve``; ``layer`` -- ``conv``; ``gradients`` --
``conv_grad_input`` and ``conv_grad_weight``; ``pooling`` -- the pooling functions and
learned invariance; ``unshared`` -- ``local_conv``, ``tiled_conv`` and biases; ``special`` --
NaN and infinities in every function; ``integer`` -- int8/uint8 layers and max pools; ``precision`` -- float16 and bfloat16; ``large`` -- a few examples past the size caps; ``hygiene``
-- what every contract function owes its callers.  Definitions come first in the order, so a
wrong backend is usually caught by the first properties run.
"""

import difflib

from convspec._contract.functions import OPS
from convspec._catalogue.property import REGISTRY, Property
from convspec._catalogue import signal, layer, gradients, pooling, unshared, special, integer, quantized, precision, large, hygiene  # noqa: F401  (registration)

#: Concept tags (docs/reference/catalogue.md) (each covered by at least one property).
CONCEPTS = (
    "definition", "commutativity", "flip-relation", "linearity", "matrix-view",
    "translation-equivariance", "sparse-interactions", "shape-valid", "shape-same", "shape-full",
    "shape-strided", "stride-downsampling", "zero-padding", "multichannel", "grouped-channels",
    "batch-independence", "variable-size", "separability", "dimensions", "dtype-preservation",
    "input-immutability", "memory-layout", "determinism", "output-ownership",
    "pooling-max", "pooling-avg", "pooling-lp", "pooling-invariance", "pooling-downsampling",
    "pooling-variable-size", "learned-invariance", "locally-connected", "tiled", "gradient-kernel",
    "gradient-input", "bias", "special-values", "large-sizes", "integer-data", "quantized", "complex-signals",
)


def _order(p: Property):
    first = ("_definition", "_impulse_response", "_accuracy")
    return (0 if p.name.endswith(first) else 1, OPS.index(p.op))


#: Every property, definitions first.
CATALOGUE: tuple[Property, ...] = tuple(sorted(REGISTRY.values(), key=_order))


from convspec._versions import CATALOGUE_VERSIONS as VERSIONS

#: The catalogue of this convspec.
CURRENT = VERSIONS[-1]


def _key(version: str) -> tuple:
    return tuple(int(part) for part in version.split("."))


def check_version(version) -> str:
    """``version`` if it names a catalogue version, else ``ValueError`` naming the argument."""
    if version not in VERSIONS:
        raise ValueError(f"catalogue version {version!r}, but should be one of {', '.join(VERSIONS)} (the versions "
                         "whose catalogue changed; CHANGELOG.md)")
    return version


def in_version(p: Property, version: str) -> bool:
    """Whether ``p`` belongs to catalogue ``version`` with the meaning it has now: added by
    then, and not changed since."""
    pinned = _key(version)
    return _key(p.added) <= pinned and all(_key(v) <= pinned for v, _ in p.changed)


def select(version: str | None = None) -> tuple[Property, ...]:
    """The properties of catalogue ``version`` (``None``: this convspec's), definitions first."""
    if version is None:
        return CATALOGUE
    check_version(version)
    return tuple(p for p in CATALOGUE if in_version(p, version))


def get(name: str) -> Property:
    try:
        return REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(REGISTRY), n=3, cutoff=0.6)
        hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
        raise KeyError(f"property={name!r}, but should be a property of the catalogue{hint}; "
                       "`convspec list` names them all") from None


def listing(version: str | None = None) -> list[dict]:
    """The properties of catalogue ``version`` (``None``: this convspec's) as plain data
    (``convspec list --json``, ``convspec.list_properties``)."""
    return [{"name": p.name, "op": p.op, "concepts": list(p.concepts), "statement": p.statement,
             "requires": list(p.requires), "uses": list(p.uses), "axes": list(p.axis_values), "added": p.added,
             "changed": [{"version": v, "what": what} for v, what in p.changed]} for p in select(version)]


for _p in CATALOGUE:  # every version a property names is a catalogue version
    for _v in (_p.added, *(v for v, _ in _p.changed)):
        if _v not in VERSIONS:
            raise ValueError(f"property {_p.name!r} names version {_v!r}, but catalogue versions are {VERSIONS}")
