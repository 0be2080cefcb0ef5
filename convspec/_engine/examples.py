"""Examples as the values they were drawn as: recorded by the property's context, written into
reproductions as a Python literal, and replayed without hypothesis.

A reproduction names its example by these values, not by hypothesis's internal choice
sequence, so it replays under any hypothesis version and reads as what it is::

    [("dtype", "float32"), ("ndim", 1), ("problem", {"ConvProblem": {"x": (1, 2, 5), ...}}),
     ("seed", 0)]

The problem dataclasses of the strategies are written as ``{class name: fields}``; tuples stay
tuples, so the literal gives back every value exactly (``ast.literal_eval``).
"""

from __future__ import annotations

import ast
import dataclasses
import math

from convspec._catalogue.strategies import ConvProblem, PoolProblem, UnsharedProblem

PROBLEMS = {cls.__name__: cls for cls in (ConvProblem, PoolProblem, UnsharedProblem)}


class ReplayMismatch(Exception):
    """The recorded example does not fit the property as it is now (it draws otherwise)."""


def _plain(value):
    if dataclasses.is_dataclass(value) and type(value).__name__ in PROBLEMS:
        return {type(value).__name__: {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"a drawn value {value!r} has no literal")  # no property draws one
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item"):  # a NumPy scalar
        return _plain(value.item())
    raise ValueError(f"a drawn value of type {type(value).__name__} has no literal: {value!r}")


def literal(drawn) -> str:
    """The example ``[(label, value), ...]`` as Python source that gives it back exactly."""
    return repr([(label, _plain(value)) for label, value in drawn])


def _rebuilt(value):
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in PROBLEMS:
        (name, fields), = value.items()
        return PROBLEMS[name](**{k: _rebuilt(v) for k, v in fields.items()})
    if isinstance(value, tuple):
        return tuple(_rebuilt(v) for v in value)
    if isinstance(value, list):
        return [_rebuilt(v) for v in value]
    return value


def parse(example) -> list[tuple[str, object]]:
    """An example given as its literal (a string) or as the list itself, values rebuilt."""
    if isinstance(example, str):
        try:
            example = ast.literal_eval(example)
        except (ValueError, SyntaxError) as e:
            raise ValueError(f"example={example[:80]!r}..., but should be the literal a reproduction prints") from e
    if not isinstance(example, (list, tuple)) or not all(isinstance(d, (list, tuple)) and len(d) == 2
                                                          and isinstance(d[0], str) for d in example):
        raise ValueError("example should be a list of (label, value) pairs, as a reproduction prints it")
    return [(label, _rebuilt(value)) for label, value in example]


def shown(drawn) -> str:
    """The example as lines a person reads: ``Draw 1 (dtype): 'float32'``."""
    return "\n".join(f"Draw {i} ({label}): {value!r}" for i, (label, value) in enumerate(drawn, 1))


class ReplayData:
    """Stands in for hypothesis's ``st.data()``: each draw gives the next recorded value."""

    def __init__(self, example):
        self.values = parse(example)
        self.used = 0

    def draw(self, strategy, label=None):
        if self.used >= len(self.values):
            raise ReplayMismatch(f"the property draws {label!r} after the {len(self.values)} recorded values")
        want, value = self.values[self.used]
        if want != label:
            raise ReplayMismatch(f"draw {self.used + 1} is {label!r} in this property, but {want!r} in the example")
        self.used += 1
        return value
