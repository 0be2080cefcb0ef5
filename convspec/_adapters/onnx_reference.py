"""ONNX's reference evaluator (``onnx.reference.ReferenceEvaluator``, the NumPy implementation
that defines the ONNX operators) as a convspec backend: the same one-node models as the
``onnxruntime`` adapter (:mod:`convspec._adapters._onnx`), evaluated in Python, in both float
dtypes, and int8/uint8 for ``ConvInteger``, ``QLinearConv`` and ``MaxPool``.
Restrictions declared: ``integer_p``, ``no_count_padding_in_ceil_mode``, ``shared_bias_only``
(what the operators define).
"""
from onnx.reference import ReferenceEvaluator

from convspec._adapters._onnx import FEATURES, INTEGER, OPS, RESTRICTIONS, OneNode

convspec_capabilities = {"ops": list(OPS), "biases": True, "restrictions": RESTRICTIONS,
                         # QLinearConv: the multiplier x_scale * w_scale / y_scale is formed in float32
                         "features": {"*": FEATURES, "conv": ["qlinear"]}, "requantize": "float32",
                         "dtypes": {"*": ["float32", "float64"],
                                    **{op: ["float32", "float64"] + ints for op, ints in INTEGER.items()}}}


def _evaluator(model):
    evaluator = ReferenceEvaluator(model)
    return lambda feeds: evaluator.run(None, feeds)[0]


_ONNX = OneNode(_evaluator)
conv, conv_grad_input = _ONNX.conv, _ONNX.conv_grad_input
max_pool, avg_pool, lp_pool = _ONNX.max_pool, _ONNX.avg_pool, _ONNX.lp_pool
