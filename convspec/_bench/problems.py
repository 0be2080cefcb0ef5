"""Benchmark problems as one readable line each (docs/results/performance.md), benchdnn-like:

    conv mb8ic64ih56oc64kh3ph1           a layer: batch 8, 64 -> 64 channels, 56x56, 3x3, pad 1
    conv mb1ic32ih112oc32kh3ph1g32       depthwise (groups 32)
    conv mb1ic64iw16000oc64kw3dw8pw8     1-D (``iw``/``kw``): dilation 8
    conv mb1ic64id8ih56oc64kd3kh3pd1ph1  3-D (``id``/``kd`` add a leading axis)
    conv_grad_input mb8ic64ih56oc64kh3ph1     the same layer's input gradient (``conv_grad_weight``: its
                                              kernel gradient)
    max_pool mb1ic64ih112kh3sh2ph1       pooling (``avg_pool`` too); ``adaptive_avg_pool mb1ic2048ih7oh1``
    correlate n100000k512                a 1-D signal, ``same`` mode; ``correlate n512x512k15x15`` 2-D
    correlate n1024x1024k31x31gauss      a separable kernel (``gauss``: the outer product of 1-D
                                         Gaussians, sigma = k / 6), as image filters use

Fields: ``mb`` batch (1), ``ic``/``oc`` channels (``oc`` defaults to ``ic``), ``g`` groups (1),
sizes ``id ih iw`` (a square image from ``ih`` alone), kernel ``kd kh kw``, stride ``sd sh sw``,
padding ``pd ph pw``, dilation ``dd dh dw`` (each defaults to its ``h`` value, then to 1 or 0);
``oh`` (``od``/``ow``), when given, must match the output size the others give.  Lines starting
with ``#`` and blank lines are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from convspec._contract.functions import (ADAPTIVE_OPS, GRADIENT_OPS, LAYER_OPS, OPS, SIGNAL_OPS, conv_output_shape,
                                          pool_output_shape)

#: The functions a descriptor can describe, by the fields they take: layers (``mb ic oc g``
#: with a kernel), pools (``mb ic`` with a window), signals (``n k``).
LAYER_DESCRIBED = LAYER_OPS + GRADIENT_OPS
POOL_DESCRIBED = ("max_pool", "avg_pool") + ADAPTIVE_OPS
SIGNAL_DESCRIBED = SIGNAL_OPS
FIELDS = {"mb", "ic", "oc", "g", "id", "ih", "iw", "od", "oh", "ow", "kd", "kh", "kw", "sd", "sh", "sw", "pd", "ph", "pw",
          "dd", "dh", "dw"}


class ProblemError(ValueError):
    """A descriptor that does not parse (the message names the field)."""


@dataclass(frozen=True)
class Problem:
    """One benchmark problem: a contract function and the shapes and keywords of its call."""

    op: str
    descriptor: str
    shapes: tuple  # of the positional arrays
    kwargs: dict
    macs: int  # multiply-adds (comparisons for pooling), the work the GFLOP/s figure counts twice
    kernel: str = "random"  # or "gauss": a separable signal kernel

    @property
    def line(self) -> str:
        return f"{self.op} {self.descriptor}"

    def arrays(self, rng, dtype="float32") -> tuple:
        arrays = [rng.standard_normal(s).astype(dtype) for s in self.shapes]
        if self.kernel == "gauss":
            arrays[1] = gaussian_kernel(self.shapes[1]).astype(dtype)
        return tuple(arrays)

    def flops(self) -> float:
        return 2.0 * self.macs


def gaussian_kernel(shape) -> np.ndarray:
    """The outer product of normalised 1-D Gaussians (sigma = k / 6 on each axis): rank one."""
    out = np.ones(())
    for k in shape:
        t = np.arange(k) - (k - 1) / 2
        g = np.exp(-0.5 * (t / (k / 6)) ** 2)
        out = np.multiply.outer(out, g / g.sum())
    return out


def _fields(descriptor: str) -> dict:
    parts = re.findall(r"([a-z]+)(\d+)", descriptor)
    if not parts or "".join(f"{k}{v}" for k, v in parts) != descriptor:
        raise ProblemError(f"descriptor {descriptor!r}, but should be fields like mb1ic64ih56oc64kh3ph1 (letters then "
                           "digits, nothing else)")
    out = {}
    for k, v in parts:
        if k not in FIELDS:
            raise ProblemError(f"field {k!r} in {descriptor!r}, but should be one of {' '.join(sorted(FIELDS))}")
        if k in out:
            raise ProblemError(f"field {k!r} appears twice in {descriptor!r}")
        out[k] = int(v)
    return out


def _spatial(f, descriptor):
    """Axes present (d, h, w): ``iw`` alone is 1-D, ``ih`` (with or without ``iw``) 2-D, ``id`` 3-D."""
    if "id" in f:
        axes = "dhw"
    elif "ih" in f:
        axes = "hw"
    elif "iw" in f:
        axes = "w"
    else:
        raise ProblemError(f"descriptor {descriptor!r} has no size: give ih (image), iw (1-D) or id (3-D)")
    size = {a: f.get(f"i{a}", f.get("ih", f.get("iw"))) for a in axes}
    pick = lambda p, default: tuple(f.get(f"{p}{a}", f.get(f"{p}h", default)) for a in axes)  # noqa: E731
    return axes, tuple(size[a] for a in axes), pick


def parse(line: str) -> Problem:
    """The :class:`Problem` of one line ``OP DESCRIPTOR`` (see the module docstring)."""
    words = line.split()
    if len(words) != 2:
        raise ProblemError(f"line {line.strip()!r}, but should be 'OP DESCRIPTOR' (e.g. 'conv mb1ic64ih56oc64kh3ph1')")
    op, descriptor = words
    if op not in OPS:
        raise ProblemError(f"op {op!r}, but should be a contract function ({', '.join(OPS)})")
    if op in SIGNAL_DESCRIBED:
        m = re.fullmatch(r"n([\dx]+)k([\dx]+)(gauss)?", descriptor)
        if not m:
            raise ProblemError(f"signal descriptor {descriptor!r}, but should be like n100000k512, n512x512k15x15 or "
                               "n512x512k15x15gauss")
        n = tuple(int(v) for v in m.group(1).split("x"))
        k = tuple(int(v) for v in m.group(2).split("x"))
        if len(n) != len(k) or not 1 <= len(n) <= 3 or min(n + k) < 1:
            raise ProblemError(f"signal descriptor {descriptor!r}: n and k need the same number (1-3) of positive sizes")
        macs = int(np.prod(n)) * int(np.prod(k))
        return Problem(op, descriptor, (n, k), {"mode": "same"}, macs, "gauss" if m.group(3) else "random")
    if op not in LAYER_DESCRIBED + POOL_DESCRIBED:
        raise ProblemError(f"op {op!r} has no benchmark descriptor (use one of {', '.join(LAYER_DESCRIBED + POOL_DESCRIBED + SIGNAL_DESCRIBED)})")
    f = _fields(descriptor)
    stray = sorted(set(f) & ({"oc", "g", "dd", "dh", "dw"} | ({"kd", "kh", "kw", "sd", "sh", "sw", "pd", "ph", "pw"}
                                                              if op.startswith("adaptive") else set()))) \
        if op in POOL_DESCRIBED else []
    if stray:
        raise ProblemError(f"field {stray[0]!r} in {descriptor!r}, but {op} takes none (only mb, ic, sizes"
                           + (", output sizes)" if op.startswith("adaptive") else ", kernel, stride, padding)"))
    if "ic" not in f:
        raise ProblemError(f"descriptor {descriptor!r} has no ic (input channels)")
    axes, size, pick = _spatial(f, descriptor)
    n, c = f.get("mb", 1), f["ic"]
    x = (n, c) + size
    if op.startswith("adaptive"):
        out = tuple(f.get(f"o{a}", f.get("oh", 1)) for a in axes)
        return Problem(op, descriptor, (x,), {"output_size": out}, int(np.prod(x)))
    kernel, stride, pad, dil = pick("k", 1), pick("s", 1), pick("p", 0), pick("d", 1)
    padding = tuple((p, p) for p in pad)
    if op in POOL_DESCRIBED:
        try:
            out = pool_output_shape(x, window=kernel, stride=stride, padding=padding)
        except Exception as e:  # noqa: BLE001 - reported with the line
            raise ProblemError(f"descriptor {descriptor!r}: {e}") from None
        _check_output(f, axes, out, descriptor)
        return Problem(op, descriptor, (x,), {"window": kernel, "stride": stride, "padding": padding},
                       int(np.prod(out)) * int(np.prod(kernel)))
    g = f.get("g", 1)
    oc = f.get("oc", c)
    if c % g or oc % g:
        raise ProblemError(f"field g={g} in {descriptor!r}, but should divide ic={c} and oc={oc}")
    w = (oc, c // g) + kernel
    kw = {"stride": stride, "padding": padding, "dilation": dil, "groups": g}
    out = conv_output_shape(x, w, **kw)
    if min(out[2:]) < 1:
        raise ProblemError(f"descriptor {descriptor!r}: the kernel spans more than the padded input")
    _check_output(f, axes, out, descriptor)
    macs = int(np.prod(out)) * (c // g) * int(np.prod(kernel))
    if op == "conv":
        return Problem(op, descriptor, (x, w), kw, macs)
    if op == "conv_grad_input":
        return Problem(op, descriptor, (out, w), {"input_shape": x, **kw}, macs)
    return Problem(op, descriptor, (out, x), {"weight_shape": w, **kw}, macs)


def _check_output(f, axes, out, descriptor):
    for a, o in zip(axes, out[2:]):
        given = f.get(f"o{a}", f.get("oh") if a != "h" else None)
        if given is not None and given != o:
            raise ProblemError(f"field o{a}={given} in {descriptor!r}, but the other fields give {o}")


def read(path: str) -> list[Problem]:
    """The problems of a file, one line each; :class:`ProblemError` names the line and field."""
    out = []
    with open(path) as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                out.append(parse(line))
            except ProblemError as e:
                raise ProblemError(f"{path}:{number}: {e}") from None
    if not out:
        raise ProblemError(f"{path}: no problem in it (one 'OP DESCRIPTOR' per line)")
    return out
