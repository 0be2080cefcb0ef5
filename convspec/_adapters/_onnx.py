"""What the ONNX adapters share: the contract's functions as one-node ONNX models (``Conv``,
``ConvInteger`` for integer data, ``ConvTranspose``, ``MaxPool``, ``AveragePool``, ``LpPool``),
built once per operator, dtype,
shapes and attributes and kept; only how a model is run differs (ONNX Runtime, ONNX's
reference evaluator).

Conventions translated, never results: the contract's ``(before, after)`` padding becomes
ONNX's ``pads`` (all begins, then all ends); the contract's ceil-mode overhang becomes extra
end padding with ``ceil_mode=0``, which ONNX never counts in an average and never takes as a
maximum (or, where that would make a pad as long as the kernel, ONNX's ``ceil_mode=1``); ``conv_grad_input`` is ``ConvTranspose`` of the output gradient with the forward
weight (ONNX's ``W`` layout ``(C, M / group, *K)`` is the forward ``(C_out, C_in / group,
*K)``), with ``output_padding`` for the rows the forward stride skipped.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from convspec import Unsupported
from convspec._adapters._pooling import crop, overhang
from convspec._contract.functions import quantized_dtype

OPSET = 21
TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE,
         np.dtype(np.int8): TensorProto.INT8, np.dtype(np.uint8): TensorProto.UINT8, np.dtype(np.int32): TensorProto.INT32}
OPS = ("conv", "conv_grad_input", "max_pool", "avg_pool", "lp_pool")
#: the restrictions ONNX's operators have (docs/howto/declare.md)
RESTRICTIONS = {"conv": ["shared_bias_only"], "avg_pool": ["no_count_padding_in_ceil_mode"], "lp_pool": ["integer_p"]}
#: the integer operators: ConvInteger (int8/uint8 in, int32 out), MaxPool on int8/uint8
INTEGER = {"conv": ["int8", "uint8"], "max_pool": ["int8", "uint8"]}
#: the optional contract features ONNX's operators have (pool dilations, pads up to the kernel,
#: ConvTranspose's bias B)
FEATURES = ["pool_dilation", "pool_padding_to_window", "grad_input_bias"]


def model(op, inputs, attrs, out_dtype=None, constants=()):
    """A model of the one node ``op`` over ``inputs`` (named in0, in1, ...) with ``attrs``; its
    output of ``out_dtype`` (default: the first input's).  ``constants`` follow the inputs as
    initializers (weights as a deployed model holds them)."""
    for a in list(inputs) + list(constants):
        if a.dtype not in TYPES:
            raise TypeError(f"dtype {a.dtype} is not supported by this adapter")
    names = [f"in{i}" for i in range(len(inputs) + len(constants))]
    node = helper.make_node(op, names, ["out"], **attrs)
    out = TYPES[np.dtype(out_dtype or inputs[0].dtype)]
    graph = helper.make_graph([node], op, [helper.make_tensor_value_info(n, TYPES[a.dtype], a.shape)
                                           for n, a in zip(names, inputs)],
                              [helper.make_tensor_value_info("out", out, None)],
                              [numpy_helper.from_array(np.ascontiguousarray(c), n)
                               for n, c in zip(names[len(inputs):], constants)])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    m.ir_version = min(m.ir_version, onnx.IR_VERSION)
    return m


def _pads(padding):
    return [int(a) for a, _ in padding] + [int(b) for _, b in padding]


def conv_attributes(w, stride, padding, dilation, groups) -> dict:
    """``Conv``'s attributes for the contract's keywords."""
    return {"strides": list(stride), "pads": _pads(padding), "dilations": list(dilation), "group": int(groups),
            "kernel_shape": list(w.shape[2:])}


def _held(zero_point, dtype):
    """A zero point as ONNX holds it: a tensor of its data's dtype (0 when absent)."""
    return np.asarray(0 if zero_point is None else zero_point, dtype=dtype)


class OneNode:
    """The contract's functions over one-node models; ``prepare(model)`` gives a function of
    the feeds ``{name: array}`` returning the output (one per key, kept)."""

    def __init__(self, prepare):
        self.prepare = prepare
        self.runs = {}

    def run(self, op, inputs, attrs, out_dtype=None):
        inputs = [np.ascontiguousarray(a) if np.ndim(a) else np.asarray(a) for a in inputs]  # scalars stay 0-d
        key = (op, tuple((a.dtype.str, a.shape) for a in inputs), repr(sorted(attrs.items())))
        if key not in self.runs:
            self.runs[key] = self.prepare(model(op, inputs, attrs, out_dtype))
        return self.runs[key]({f"in{i}": a for i, a in enumerate(inputs)})

    def _bias(self, inputs, bias, dtype):
        if bias is not None:
            if np.ndim(bias) != 1:  # ONNX's B is one value per output channel
                raise Unsupported("ONNX Conv takes a shared bias only (one value per output channel)")
            inputs.append(np.asarray(bias, dtype=dtype))
        return inputs

    def conv(self, x, w, *, stride, padding, dilation, groups, bias=None, x_zero_point=None, w_zero_point=None,
             x_scale=None, w_scale=None, y_scale=None, y_zero_point=None):
        attrs = conv_attributes(w, stride, padding, dilation, groups)
        if y_scale is not None:  # QLinearConv: scales as float32 tensors, zero points in their tensors' dtypes
            y_dtype = quantized_dtype(y_zero_point, x.dtype)
            inputs = [x, np.asarray(x_scale, np.float32), _held(x_zero_point, x.dtype),
                      w, np.asarray(w_scale, np.float32), _held(w_zero_point, w.dtype),
                      np.asarray(y_scale, np.float32), _held(y_zero_point, y_dtype)]
            if bias is not None:
                inputs.append(np.asarray(bias, np.int32))
            return self.run("QLinearConv", inputs, attrs, out_dtype=y_dtype)
        if x.dtype.kind in "iu":  # ConvInteger: zero points in their tensors' dtypes, int32 out
            zero_points = [_held(x_zero_point, x.dtype), _held(w_zero_point, w.dtype)]
            return self.run("ConvInteger", [x, w] + zero_points, attrs, out_dtype=np.int32)
        return self.run("Conv", self._bias([x, w], bias, x.dtype), attrs)

    def conv_grad_input(self, gy, w, *, input_shape, stride, padding, dilation, groups, bias=None):
        # ConvTranspose's length: stride (n - 1) + output_padding + span - begin - end
        spans = [d * (k - 1) + 1 for k, d in zip(w.shape[2:], dilation)]
        extra = [s - (st * (n - 1) + k - a - b) for s, st, n, k, (a, b)
                 in zip(input_shape[2:], stride, gy.shape[2:], spans, padding)]
        attrs = {**conv_attributes(w, stride, padding, dilation, groups), "output_padding": extra}
        inputs = [gy, w] if bias is None else [gy, w, np.asarray(bias, dtype=gy.dtype)]  # B: one per channel
        return self.run("ConvTranspose", inputs, attrs)

    def _pool(self, op, x, window, stride, padding, ceil_mode, dilation, **attrs):
        dilation = [1] * len(window) if dilation is None else [int(d) for d in dilation]
        out, _, padded = overhang(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                                  dilation=dilation)
        if any(b > k - 1 for (_, b), k in zip(padded, window)):
            # ONNX takes pads below the kernel only: the overhang then goes through ONNX's own
            # ceil mode (it too never counts the overhang), and its output is cropped
            padded, attrs = padding, {**attrs, "ceil_mode": 1}
        attrs = {"kernel_shape": list(window), "strides": list(stride), "pads": _pads(padded), **attrs}
        if any(d > 1 for d in dilation):
            attrs["dilations"] = dilation
        return crop(self.run(op, [x], attrs), out)

    def max_pool(self, x, *, window, stride, padding, ceil_mode=False, dilation=None):
        return self._pool("MaxPool", x, window, stride, padding, ceil_mode, dilation)

    def avg_pool(self, x, *, window, stride, padding, ceil_mode=False, count_padding=False, dilation=None):
        if count_padding and ceil_mode:
            raise Unsupported("ceil mode with count_padding: ONNX would count the overhang as padding")
        return self._pool("AveragePool", x, window, stride, padding, ceil_mode, dilation,
                          count_include_pad=int(bool(count_padding)))

    def lp_pool(self, x, *, p, window, stride, padding, ceil_mode=False, dilation=None):
        if float(p) != int(p):
            raise Unsupported(f"p={p}: ONNX LpPool takes an integer p")
        return self._pool("LpPool", x, window, stride, padding, ceil_mode, dilation, p=int(p))
