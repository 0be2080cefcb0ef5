"""Restrictions a backend may declare: the cases of an op it does not support, though they are
valid under the contract (docs/howto/declare.md); and the optional features
of the contract it takes part in (:data:`FEATURES`).

A library's real limits are declared by name in ``convspec_capabilities["restrictions"]``
(a list for every function it applies to, or ``{op or "*": [...]}``).  An example that a
declared restriction excludes is *declined* without calling the backend (counted per property
with the restriction's name, never passed); ``<op>_declared_restrictions`` checks that each
declared case really raises; and a backend that raises :class:`convspec.Unsupported` for an
example no declared restriction excludes fails: it cannot decline what it declared it supports.

Each restriction is a predicate on one call ``(op, args, kwargs)`` and a way to turn a valid
call into one it excludes (for the check that the backend raises).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convspec._contract.functions import DTYPES, GRADIENT_OPS, INTEGER_DTYPES, LAYER_OPS, POOL_OPS, SIGNAL_OPS, conv_output_shape

KERNEL_OPS = SIGNAL_OPS + LAYER_OPS + GRADIENT_OPS


def kernel_shape(op, args, kwargs) -> tuple:
    """The spatial kernel lengths of a call of a kernel op (signal, layer or gradient)."""
    if op in SIGNAL_OPS:
        return tuple(np.shape(args[1]))
    if op == "conv_grad_weight":
        return tuple(kwargs["weight_shape"][2:])
    return tuple(np.shape(args[1])[2:])


def _layer(op, x_shape, w_shape, kw, make):
    """``(args, kwargs)`` of ``op`` for a layer of these shapes (``make(shape)`` gives data)."""
    out = conv_output_shape(x_shape, w_shape, **kw)
    if op == "conv":
        return (make(x_shape), make(w_shape)), kw
    if op == "conv_grad_input":
        return (make(out), make(w_shape)), {"input_shape": tuple(x_shape), **kw}
    return (make(out), make(x_shape)), {"weight_shape": tuple(w_shape), **kw}


def _layer_shapes(op, args, kwargs):
    """``(x_shape, w_shape, layer kwargs)`` of a layer or gradient call."""
    kw = {k: kwargs[k] for k in ("stride", "padding", "dilation", "groups")}
    if op == "conv":
        return tuple(np.shape(args[0])), tuple(np.shape(args[1])), kw
    if op == "conv_grad_input":
        return tuple(kwargs["input_shape"]), tuple(np.shape(args[1])), kw
    return tuple(np.shape(args[1])), tuple(kwargs["weight_shape"]), kw


def _grown(x_shape, w_shape, kw):
    """``x_shape`` with each spatial length grown so that the layer is valid."""
    spatial = []
    for s, k, d, (a, b) in zip(x_shape[2:], w_shape[2:], kw["dilation"], kw["padding"]):
        spatial.append(max(s, d * (k - 1) + 1 - a - b, 1))
    return tuple(x_shape[:2]) + tuple(spatial)


def _even_kernel(op, args, kwargs, make):
    if op in SIGNAL_OPS:
        x, w = args
        w_shape = (2,) + w.shape[1:]
        x_shape = (max(x.shape[0], 2),) + x.shape[1:]
        return (make(x_shape), make(w_shape)), kwargs
    x_shape, w_shape, kw = _layer_shapes(op, args, kwargs)
    w_shape = w_shape[:2] + (2,) + w_shape[3:]
    return _layer(op, _grown(x_shape, w_shape, kw), w_shape, kw, make)


def _long_kernel(op, args, kwargs, make):
    x, w = args
    w_shape = (x.shape[0] + 1,) + w.shape[1:]
    return (x, make(w_shape)), {**kwargs, "mode": "full"}


def _stride_and_dilation(op, args, kwargs, make):
    x_shape, w_shape, kw = _layer_shapes(op, args, kwargs)
    nd = len(x_shape) - 2
    kw = {**kw, "stride": (2,) * nd, "dilation": (2,) * nd}
    w_shape = w_shape[:2] + tuple(max(k, 2) for k in w_shape[2:])  # dilation must matter
    return _layer(op, _grown(x_shape, w_shape, kw), w_shape, kw, make)


def _grouped(op, args, kwargs, make):
    x_shape, w_shape, kw = _layer_shapes(op, args, kwargs)
    x_shape = (x_shape[0], 2 * x_shape[1]) + x_shape[2:]  # two groups of the same layer
    w_shape = (2 * w_shape[0],) + w_shape[1:]
    return _layer(op, x_shape, w_shape, {**kw, "groups": 2 * kw["groups"]}, make)


def _grouped_3d(op, args, kwargs, make):
    x_shape, w_shape, kw = _layer_shapes(op, args, kwargs)
    more = 3 - (len(x_shape) - 2)  # a 1-D or 2-D call grows axes of length 1 into a 3-D one
    kw = {"stride": tuple(kw["stride"]) + (1,) * more, "padding": tuple(kw["padding"]) + ((0, 0),) * more,
          "dilation": tuple(kw["dilation"]) + (1,) * more, "groups": kw["groups"]}
    layer = _layer(op, x_shape + (1,) * more, w_shape + (1,) * more, kw, make)
    return _grouped(op, *layer, make)


def _long_stride(op, args, kwargs, make):
    (x,) = args
    stride = (kwargs["window"][0] + 1,) + tuple(kwargs["stride"][1:])
    x = make(x.shape[:2] + (max(x.shape[2], stride[0] + 1),) + x.shape[3:])  # two windows, a gap between
    return (x,), {**kwargs, "stride": stride, "ceil_mode": False}


def _untied_bias(op, args, kwargs, make):
    out = conv_output_shape(np.shape(args[0]), np.shape(args[1]),
                            **{k: v for k, v in kwargs.items() if k != "bias"})
    return args, {**kwargs, "bias": make(out[1:])}


def _per_channel_zero_points(op, args, kwargs, make):
    x, w = args
    if w.shape[0] == 1:  # two output channels, so that their zero points can differ
        w = np.concatenate([w, w])
    return (x, w), {**kwargs, "w_zero_point": (np.arange(w.shape[0]) % 2).astype(w.dtype)}


#: The (x, w, result) dtypes of the quantised conv that deployed int8 kernels take (ONNX Runtime's
#: QLinearConv, TFLite, fbgemm): signed throughout, or unsigned data with either weights.
DEPLOYED_QLINEAR = (("int8", "int8", "int8"), ("uint8", "int8", "uint8"), ("uint8", "uint8", "uint8"))


def _qlinear_dtypes(a, kw) -> tuple:
    from convspec._contract.functions import quantized_dtype

    x, w = a[0], a[1]
    return (np.dtype(x.dtype).name, np.dtype(w.dtype).name, quantized_dtype(kw.get("y_zero_point"), x.dtype).name)


def _other_result_dtype(op, args, kwargs, make):
    other = np.uint8 if args[0].dtype == np.int8 else np.int8
    return args, {**kwargs, "x_scale": 1.0, "w_scale": 1.0, "y_scale": 1.0, "y_zero_point": np.array(0, other)}


@dataclass(frozen=True)
class Restriction:
    name: str
    ops: tuple
    statement: str
    excludes: object  # (op, args, kwargs) -> bool
    violate: object  # (op, args, kwargs, make) -> (args, kwargs) of a call it excludes
    dtypes: tuple = DTYPES  # the data it is about (its cases are built in one of these)


RESTRICTIONS = {r.name: r for r in (
    Restriction("integer_p", ("lp_pool",), "an integer p only",
                lambda op, a, kw: float(kw["p"]) != int(float(kw["p"])),
                lambda op, a, kw, make: (a, {**kw, "p": 1.5})),
    Restriction("no_ceil_mode", POOL_OPS, "no ceil mode",
                lambda op, a, kw: bool(kw.get("ceil_mode", False)),
                lambda op, a, kw, make: (a, {**kw, "ceil_mode": True})),
    Restriction("no_count_padding", ("avg_pool",), "no count_padding",
                lambda op, a, kw: bool(kw.get("count_padding", False)),
                lambda op, a, kw, make: (a, {**kw, "count_padding": True})),
    Restriction("no_count_padding_in_ceil_mode", ("avg_pool",), "no count_padding together with ceil mode",
                lambda op, a, kw: bool(kw.get("count_padding", False)) and bool(kw.get("ceil_mode", False)),
                lambda op, a, kw, make: (a, {**kw, "count_padding": True, "ceil_mode": True})),
    Restriction("odd_kernels", KERNEL_OPS, "odd kernel lengths only",
                lambda op, a, kw: any(k % 2 == 0 for k in kernel_shape(op, a, kw)),
                _even_kernel),
    Restriction("kernel_within_input", SIGNAL_OPS, "a kernel no longer than the input on every axis",
                lambda op, a, kw: any(k > m for k, m in zip(np.shape(a[1]), np.shape(a[0]))),
                _long_kernel),
    Restriction("no_stride_with_dilation", LAYER_OPS + GRADIENT_OPS,
                "no stride above 1 together with a dilation above 1",
                lambda op, a, kw: max(np.ravel(kw["stride"])) > 1 and max(np.ravel(kw["dilation"])) > 1,
                _stride_and_dilation),
    Restriction("shared_bias_only", LAYER_OPS, "a shared bias only (one value per output channel)",
                lambda op, a, kw: kw.get("bias") is not None and np.ndim(kw["bias"]) > 1,
                _untied_bias),
    Restriction("no_groups", LAYER_OPS + GRADIENT_OPS, "groups = 1 only",
                lambda op, a, kw: int(kw["groups"]) > 1, _grouped),
    Restriction("no_groups_in_3d", LAYER_OPS + GRADIENT_OPS, "groups = 1 in 3-D layers (1-D and 2-D may group)",
                lambda op, a, kw: int(kw["groups"]) > 1 and len(kw["stride"]) == 3, _grouped_3d),
    Restriction("stride_within_window", POOL_OPS, "a stride no longer than the window on every axis",
                lambda op, a, kw: any(s > k for s, k in zip(kw["stride"], kw["window"])), _long_stride),
    Restriction("per_tensor_zero_points", LAYER_OPS, "one w_zero_point for the whole kernel (not one per output "
                "channel)", lambda op, a, kw: np.size(kw.get("w_zero_point", 0)) > 1, _per_channel_zero_points,
                INTEGER_DTYPES),
    Restriction("qlinear_deployed_dtypes", LAYER_OPS, "a quantised conv's x, w and result dtypes as deployed int8 "
                "kernels take them: " + ", ".join("/".join(t) for t in DEPLOYED_QLINEAR),
                lambda op, a, kw: kw.get("y_scale") is not None and _qlinear_dtypes(a, kw) not in DEPLOYED_QLINEAR,
                _other_result_dtype, INTEGER_DTYPES),
)}


def excluded(restrictions, op, args, kwargs) -> str | None:
    """The name of the first of ``restrictions`` (declared for ``op``) that excludes this call."""
    for name in restrictions:
        if RESTRICTIONS[name].excludes(op, args, kwargs):
            return name
    return None


#: Optional parts of the contract a backend takes part in by declaring them (docs/explanation/
#: contract.md): name -> (the functions it applies to, what it adds).
FEATURES = {
    "pool_dilation": (POOL_OPS, "the dilation keyword of the pools (taps dilation apart)"),
    "pool_padding_to_window": (POOL_OPS, "pool padding up to window - 1 (a dilated window may hold padding only)"),
    "max_pool_indices": (("max_pool",), "max_pool(..., return_indices=True) gives (y, indices): the flat index over "
                                        "x's spatial axes of each window's first NaN, else its first maximum"),
    "qlinear": (("conv",), "the quantised conv (ONNX QLinearConv): int8/uint8 x and w with zero points, x_scale, "
                           "w_scale (one or per output channel), y_scale, y_zero_point and an int32 bias, requantised "
                           "to int8/uint8 as the declaration requantize says"),
    "grad_input_bias": (("conv_grad_input",), "conv_grad_input's bias keyword: one value per input channel, added to "
                                              "the result (the transposed convolution's bias, ONNX ConvTranspose B)"),
}


def declared(decl, ops, *, key="restrictions", vocabulary=None) -> dict:
    """``{op: (names)}`` from a declaration of ``key``: a list (for every function of ``ops``
    each name applies to) or ``{op or "*": [...]}``; ``ValueError`` naming what is wrong.
    ``vocabulary``: name -> the functions it applies to (default: the restrictions)."""
    applies = vocabulary if vocabulary is not None else {n: r.ops for n, r in RESTRICTIONS.items()}
    if decl is None:
        return {}
    if isinstance(decl, (list, tuple)):
        decl = {"*": decl}
    if not isinstance(decl, dict):
        raise ValueError(f"convspec_capabilities[{key!r}]={decl!r}, but should be a list of names or "
                         "{op or '*': [names]}")
    out = {}
    for op, names in decl.items():
        if op != "*" and op not in ops:
            raise ValueError(f"convspec_capabilities[{key!r}] names {op!r}, but should name contract functions "
                             f"({', '.join(ops)}) or '*'")
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"convspec_capabilities[{key!r}][{op!r}]={names!r}, but should be a list of names")
        for n in names:
            if n not in applies:
                raise ValueError(f"convspec_capabilities[{key!r}][{op!r}] has {n!r}, but should use only "
                                 f"{', '.join(applies)}")
            if op != "*" and op not in applies[n]:
                raise ValueError(f"convspec_capabilities[{key!r}][{op!r}] has {n!r}, which applies only to "
                                 f"{', '.join(applies[n])}")
    for op in ops:
        names = tuple(n for n in decl.get(op, decl.get("*", ())) if op in applies[n])
        if names:
            out[op] = names
    return out
