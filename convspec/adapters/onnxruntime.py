"""ONNX Runtime (CPU execution provider) as a convspec backend: each call runs a one-node ONNX
model (``Conv``, ``MaxPool``, ``AveragePool``, ``LpPool``), built once per operator, dtype,
shapes and attributes and kept.

Conventions translated, never results: the contract's ``(before, after)`` padding becomes
ONNX's ``pads`` (all begins, then all ends); the contract's ceil-mode overhang (the last
window starts inside the input or its left padding) becomes extra end padding with
``ceil_mode=0``, which ONNX never counts in an average and never takes as a maximum.
Declared per function, as ONNX Runtime has them: ``MaxPool`` in float32 and float64, the
others in float32 only.  Restrictions declared (README: Check your own implementation):
``integer_p`` (``LpPool`` takes an integer ``p``), ``no_count_padding_in_ceil_mode`` (ONNX
would count the overhang as padding), ``shared_bias_only`` (``Conv``'s ``B``); those cases
raise ``convspec.Unsupported``.
"""
import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper

from convspec import Unsupported
from convspec.adapters._pooling import crop, overhang

convspec_capabilities = {
    "ops": ["conv", "max_pool", "avg_pool", "lp_pool"],
    "dtypes": {"max_pool": ["float32", "float64"], "*": ["float32"]},
    "biases": True,
    "restrictions": {"conv": ["shared_bias_only"], "avg_pool": ["no_count_padding_in_ceil_mode"],
                     "lp_pool": ["integer_p"]},
}

_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE}
_SESSIONS: dict = {}
_OPSET = 21


def _run(op, inputs, attrs):
    """One node ``op`` over ``inputs`` with ``attrs``; its session is cached."""
    dtype = inputs[0].dtype
    if dtype not in _TYPES:
        raise TypeError(f"dtype {dtype} is not supported by this adapter")
    key = (op, dtype.str, tuple(a.shape for a in inputs), repr(sorted(attrs.items())))
    session = _SESSIONS.get(key)
    if session is None:
        names = [f"in{i}" for i in range(len(inputs))]
        node = helper.make_node(op, names, ["out"], **attrs)
        graph = helper.make_graph([node], op, [helper.make_tensor_value_info(n, _TYPES[dtype], a.shape)
                                               for n, a in zip(names, inputs)],
                                  [helper.make_tensor_value_info("out", _TYPES[dtype], None)])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET)])
        model.ir_version = min(model.ir_version, onnx.IR_VERSION)
        session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        _SESSIONS[key] = session
    names = [i.name for i in session.get_inputs()]
    return session.run(None, {n: np.ascontiguousarray(a) for n, a in zip(names, inputs)})[0]


def _pads(padding):
    return [int(a) for a, _ in padding] + [int(b) for _, b in padding]


def conv(x, w, *, stride, padding, dilation, groups, bias=None):
    attrs = {"strides": list(stride), "pads": _pads(padding), "dilations": list(dilation), "group": int(groups),
             "kernel_shape": list(w.shape[2:])}
    inputs = [x, w]
    if bias is not None:
        if np.ndim(bias) != 1:  # ONNX Conv's B is one value per output channel
            raise Unsupported("ONNX Conv takes a shared bias only (one value per output channel)")
        inputs.append(np.asarray(bias, dtype=x.dtype))
    return _run("Conv", inputs, attrs)


def _pool_attrs(x, window, stride, padding, ceil_mode):
    """Attributes for a pool with the contract's ceil-mode overhang as extra end padding."""
    out, extra, padded = overhang(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode)
    return {"kernel_shape": list(window), "strides": list(stride), "pads": _pads(padded)}, extra, out


def max_pool(x, *, window, stride, padding, ceil_mode=False):
    attrs, _, out = _pool_attrs(x, window, stride, padding, ceil_mode)
    return crop(_run("MaxPool", [x], attrs), out)


def avg_pool(x, *, window, stride, padding, ceil_mode=False, count_padding=False):
    attrs, _, out = _pool_attrs(x, window, stride, padding, ceil_mode)
    if count_padding and ceil_mode:
        raise Unsupported("ceil mode with count_padding: ONNX would count the overhang as padding")
    attrs["count_include_pad"] = int(bool(count_padding))
    return crop(_run("AveragePool", [x], attrs), out)


def lp_pool(x, *, p, window, stride, padding, ceil_mode=False):
    if float(p) != int(p):
        raise Unsupported(f"p={p}: ONNX LpPool takes an integer p")
    attrs, _, out = _pool_attrs(x, window, stride, padding, ceil_mode)
    attrs["p"] = int(p)
    return crop(_run("LpPool", [x], attrs), out)
