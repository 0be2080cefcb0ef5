"""Hypothesis strategies for convolution problems.

They reach where real bugs live: sizes from 1 to well past 16 per axis (tile boundaries),
channel counts past 8 and not multiples of 8, asymmetric padding and padding larger than the
kernel, stride and dilation above 1 together, 1x1 kernels with stride, non-square inputs and
kernels, batch above 1.  Sizes are capped so one example stays cheap for the naive backend,
and every draw shrinks toward the smallest problem.

* :func:`signal_problems` -- ``(x_shape, w_shape)`` for ``correlate``/``convolve``.
* :func:`conv_problems` -- a :class:`ConvProblem` for ``conv``.
* :func:`layouts` -- names of non-contiguous memory layouts, applied by :func:`as_layout`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from convspec._contract.memory_layouts import LAYOUTS, as_layout, layout_of  # noqa: F401  (re-exported)

#: Largest input length per axis of ``conv``, by number of spatial axes (past 16 and 64, tile edges).
MAX_SIZE = {1: 160, 2: 72, 3: 20}
#: Largest input length per axis of ``correlate``/``convolve`` (one channel, so larger: past 64).
MAX_SIGNAL_SIZE = {1: 160, 2: 72, 3: 20}
#: Largest kernel length per axis.
MAX_KERNEL = {1: 9, 2: 5, 3: 3}
#: Largest number of input elements of one ``conv`` example (keeps the naive backend fast).
MAX_ELEMENTS = 16000
#: Largest number of multiply-adds of one ``conv`` example, so that a plain Python loop
#: implementation (a course exercise, a first draft) is still checked in reasonable time.
MAX_MACS = 250_000
#: Size classes: most bugs show on small inputs and shrink well; tile-boundary bugs need large ones.
SIZE_CLASSES = {"small": (1, 8), "medium": (9, 20), "large": (21, None)}


def sizes(draw, least, cap):
    """A length in ``[least, cap]``, at most 8, 20 or ``cap`` by a drawn size class.

    Classes keep large sizes frequent (hypothesis favours small integers); each class reaches
    down to ``least``, so shrinking is not stopped at a class boundary.
    """
    _, hi = SIZE_CLASSES[draw(st.sampled_from(list(SIZE_CLASSES)))]
    hi = max(least, min(hi or cap, cap))
    # the class bounds the size from above only, so a counterexample shrinks to the least
    # failing size instead of stopping at the bottom of its class
    return draw(st.integers(least, hi))


@st.composite
def signal_problems(draw, ndim, mode):
    """Shapes ``(x_shape, w_shape)`` for ``correlate``/``convolve`` in ``mode``.

    * ``ndim`` -- number of axes (1, 2 or 3).
    * ``mode`` -- ``"valid"`` keeps ``k <= m`` on every axis; the others allow kernels
      longer than the input.
    """
    x_shape = tuple(sizes(draw, 1, MAX_SIGNAL_SIZE[ndim]) for _ in range(ndim))
    w_shape = tuple(
        draw(st.integers(1, min(m, MAX_KERNEL[ndim]) if mode == "valid" else MAX_KERNEL[ndim] + 2))
        for m in x_shape
    )
    return x_shape, w_shape


@dataclass(frozen=True)
class ConvProblem:
    """Shapes and hyper-parameters of one ``conv`` call (short repr for counterexamples)."""

    x: tuple
    w: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int

    @property
    def kwargs(self) -> dict:
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups)

    @property
    def ndim(self) -> int:
        return len(self.x) - 2

    def __repr__(self):
        return (
            f"ConvProblem(x={self.x}, w={self.w}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, groups={self.groups})"
        )


@st.composite
def conv_problems(draw, ndim, *, max_stride=3, max_dilation=3, max_groups=3, max_channels=11, unit=False,
                  max_elements=MAX_ELEMENTS):
    """A :class:`ConvProblem` with ``ndim`` spatial axes.

    * ``ndim`` -- number of spatial axes (1, 2 or 3).
    * ``max_stride``, ``max_dilation`` -- upper bounds (1 disables striding / dilation).
    * ``max_groups`` -- upper bound on ``groups``; channels per group go up to
      ``max_channels``, so ``C_in`` and ``C_out`` reach past 8 without being multiples of 8.
    * ``unit`` -- if true, no padding, stride or dilation (for properties about those).
    * ``max_elements`` -- cap on the input size ``N * C_in * prod(S)`` (the spatial size
      gives way to it).
    """
    groups = draw(st.integers(1, max_groups))
    c_group = draw(st.integers(1, max_channels))
    o_group = draw(st.integers(1, max_channels))
    n = draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, MAX_KERNEL[ndim])) for _ in range(ndim))
    if unit:
        stride = dilation = (1,) * ndim
        padding = ((0, 0),) * ndim
    else:
        stride = tuple(draw(st.integers(1, max_stride)) for _ in range(ndim))
        dilation = tuple(draw(st.integers(1, max_dilation)) for _ in range(ndim))
        padding = tuple((draw(st.integers(0, k + 2)), draw(st.integers(0, k + 2))) for k in kernel)
    c_in = groups * c_group
    macs_per_position = n * groups * o_group * c_group * int(np.prod(kernel)) / int(np.prod(stride))
    per_axis = max(1, int(min(max_elements / (n * c_in), MAX_MACS / macs_per_position) ** (1 / ndim)))
    cap = min(MAX_SIZE[ndim], per_axis)
    spatial = []
    for k, d, (a, b) in zip(kernel, dilation, padding):
        least = max(1, d * (k - 1) + 1 - a - b)
        spatial.append(sizes(draw, least, cap))
    return ConvProblem(
        x=(n, c_in) + tuple(spatial),
        w=(groups * o_group, c_group) + kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
    )


# ----------------------------------------------------------------- memory layouts

def layouts():
    """Names of non-contiguous layouts (see :func:`~convspec._contract.memory_layouts.as_layout`)."""
    return st.sampled_from(LAYOUTS)


@dataclass(frozen=True)
class PoolProblem:
    """Shape and hyper-parameters of one pooling call (short repr for counterexamples);
    ``dilation`` is ``None`` for a problem drawn without the ``pool_dilation`` feature."""

    x: tuple
    window: tuple
    stride: tuple
    padding: tuple
    ceil_mode: bool
    dilation: tuple | None = None

    @property
    def kwargs(self) -> dict:
        kw = dict(window=self.window, stride=self.stride, padding=self.padding, ceil_mode=self.ceil_mode)
        return kw if self.dilation is None else {**kw, "dilation": self.dilation}

    def __repr__(self):
        return (f"PoolProblem(x={self.x}, window={self.window}, stride={self.stride}, padding={self.padding}, "
                f"ceil_mode={self.ceil_mode}" + ("" if self.dilation is None else f", dilation={self.dilation}") + ")")


@st.composite
def pool_problems(draw, ndim, *, max_window=4, max_stride=4, ceil_mode=None, padded=True, max_dilation=1, wide=False):
    """A :class:`PoolProblem` with ``ndim`` spatial axes.

    * ``ndim`` -- number of spatial axes (1, 2 or 3).
    * ``max_window``, ``max_stride`` -- upper bounds; strides above the window leave gaps.
    * ``ceil_mode`` -- fixed, or drawn when ``None``.
    * ``padded`` -- if false, no padding.
    * ``max_dilation`` -- above 1, a dilation is drawn (feature ``pool_dilation``).
    * ``wide`` -- padding up to ``window - 1`` (feature ``pool_padding_to_window``), else
      at most ``window // 2``.
    """
    n = draw(st.integers(1, 2))
    c = draw(st.integers(1, 4))
    window = tuple(draw(st.integers(1, max_window)) for _ in range(ndim))
    stride = tuple(draw(st.integers(1, max_stride)) for _ in range(ndim))
    dilation = tuple(draw(st.integers(1, max_dilation)) for _ in range(ndim)) if max_dilation > 1 else None
    spans = tuple(d * (k - 1) + 1 for k, d in zip(window, dilation or (1,) * ndim))
    limits = window if wide else tuple(k // 2 + 1 for k in window)
    padding = tuple((draw(st.integers(0, m - 1)), draw(st.integers(0, m - 1))) if padded else (0, 0) for m in limits)
    ceil = draw(st.booleans()) if ceil_mode is None else ceil_mode
    cap = min(MAX_SIZE[ndim], max(1, int((MAX_ELEMENTS / (n * c)) ** (1 / ndim))))
    spatial = tuple(sizes(draw, max(1, span - a - b), cap) for span, (a, b) in zip(spans, padding))
    return PoolProblem((n, c) + spatial, window, stride, padding, ceil, dilation)


@dataclass(frozen=True)
class UnsharedProblem:
    """Shapes of one ``local_conv`` / ``tiled_conv`` call."""

    x: tuple
    w: tuple
    stride: tuple
    padding: tuple

    @property
    def kwargs(self) -> dict:
        return dict(stride=self.stride, padding=self.padding)

    def __repr__(self):
        return f"UnsharedProblem(x={self.x}, w={self.w}, stride={self.stride}, padding={self.padding})"


@st.composite
def unshared_problems(draw, ndim, *, tiled, tiles=None):
    """An :class:`UnsharedProblem`: ``w`` is ``(C_out, *O, C_in, *K)`` (local) or
    ``(C_out, C_in, *K, *T)`` (tiled; ``tiles`` fixes T, else drawn from 1 to 3 per axis)."""
    from convspec._contract.functions import conv_output_shape

    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kernel = tuple(draw(st.integers(1, MAX_KERNEL[ndim])) for _ in range(ndim))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    padding = tuple((draw(st.integers(0, k)), draw(st.integers(0, k))) for k in kernel)
    cap = min({1: 40, 2: 14, 3: 7}[ndim], max(1, int((2000 / (n * c_in)) ** (1 / ndim))))
    spatial = tuple(sizes(draw, max(1, k - a - b), cap) for k, (a, b) in zip(kernel, padding))
    x = (n, c_in) + spatial
    out = conv_output_shape(x, (c_out, c_in) + kernel, stride=stride, padding=padding, dilation=(1,) * ndim)[2:]
    if tiled:
        t = tiles if tiles is not None else tuple(draw(st.integers(1, 3)) for _ in range(ndim))
        w = (c_out, c_in) + kernel + tuple(t)
    else:
        w = (c_out,) + out + (c_in,) + kernel
    return UnsharedProblem(x, w, stride, padding)


# ----------------------------------------------------------------- shape-stable drawing

_STABLE: dict = {}


def _size(value) -> int:
    """Elements of every shape in a problem (a dataclass of shapes or a tuple of them)."""
    parts = value.__dict__.values() if hasattr(value, "__dict__") else value
    shapes = [p for p in parts if isinstance(p, tuple) and p and all(isinstance(v, int) for v in p)]
    return sum(int(np.prod(p)) for p in shapes)


class StableNotReady(BaseException):
    """The fixed values of a strategy are not computed yet in this process; raised from inside
    a property's test, so the runner computes them outside it (:func:`stable` runs a
    hypothesis test of its own, which must not be nested in another) and starts again."""

    def __init__(self, strategy, count):
        super().__init__(repr(strategy))
        self.strategy, self.count = strategy, count


def stable(strategy, count, *, compute=True):
    """``count`` fixed values of ``strategy``, spread from small to large, as a strategy (the
    profile "jit": a library that compiles per shape compiles a few times per property).

    They are the same in every process (hypothesis derandomised, keyed by the strategy's
    repr), so a reproduction replays the same shapes.  ``compute=False`` (inside a running
    property): :class:`StableNotReady` when they are not known yet."""
    import hypothesis
    from hypothesis import Phase

    key = (repr(strategy), count)
    if key not in _STABLE:
        if not compute:
            raise StableNotReady(strategy, count)
        found = {}

        @hypothesis.settings(derandomize=True, max_examples=40, database=None, phases=[Phase.generate], deadline=None)
        @hypothesis.given(strategy)
        def collect(value):
            found.setdefault(repr(value), value)

        collect()
        ordered = sorted(found.values(), key=_size)
        picks = [ordered[round(i * (len(ordered) - 1) / max(count - 1, 1))] for i in range(count)]
        _STABLE[key] = list({repr(p): p for p in picks}.values())
    return st.sampled_from(_STABLE[key])
