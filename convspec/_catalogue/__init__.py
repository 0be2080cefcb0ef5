"""The property catalogue (README: Property catalogue): every property, in one place, by name.

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
from convspec._catalogue import signal, layer, gradients, pooling, unshared, special, integer, precision, large, hygiene  # noqa: F401  (registration)

#: Concept tags (README: Property catalogue) (each covered by at least one property).
CONCEPTS = (
    "definition", "commutativity", "flip-relation", "linearity", "matrix-view",
    "translation-equivariance", "sparse-interactions", "shape-valid", "shape-same", "shape-full",
    "shape-strided", "stride-downsampling", "zero-padding", "multichannel", "grouped-channels",
    "batch-independence", "variable-size", "separability", "dimensions", "dtype-preservation",
    "input-immutability", "memory-layout", "determinism", "output-ownership",
    "pooling-max", "pooling-avg", "pooling-lp", "pooling-invariance", "pooling-downsampling",
    "pooling-variable-size", "learned-invariance", "locally-connected", "tiled", "gradient-kernel",
    "gradient-input", "bias", "special-values", "large-sizes", "integer-data", "complex-signals",
)


def _order(p: Property):
    first = ("_definition", "_impulse_response", "_accuracy")
    return (0 if p.name.endswith(first) else 1, OPS.index(p.op))


#: Every property, definitions first.
CATALOGUE: tuple[Property, ...] = tuple(sorted(REGISTRY.values(), key=_order))


def get(name: str) -> Property:
    try:
        return REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(REGISTRY), n=3, cutoff=0.6)
        hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
        raise KeyError(f"property={name!r}, but should be a property of the catalogue{hint}; "
                       "`convspec list` names them all") from None


def listing() -> list[dict]:
    """Every property as plain data (``convspec list --json``, ``convspec.list_properties``)."""
    return [{"name": p.name, "op": p.op, "concepts": list(p.concepts), "statement": p.statement,
             "requires": list(p.requires), "uses": list(p.uses), "axes": list(p.axis_values)} for p in CATALOGUE]
