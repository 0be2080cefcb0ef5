"""ONNX Runtime (CPU execution provider) as a convspec backend: each call runs a one-node ONNX
model (``Conv``, ``ConvTranspose`` for ``conv_grad_input``, ``MaxPool``, ``AveragePool``,
``LpPool``), one session per operator, dtype, shapes and attributes, kept.  The conventions
translated are in :mod:`convspec._adapters._onnx`.

Declared per function, as ONNX Runtime has them: ``MaxPool`` in float32, float64, int8 and
uint8, ``Conv`` in float32 with ``ConvInteger`` for int8 and uint8, the others in float32
only.  Restrictions declared (docs/howto/declare.md): ``integer_p``
(``LpPool`` takes an integer ``p``), ``no_count_padding_in_ceil_mode`` (ONNX would count the
overhang as padding), ``shared_bias_only`` (``Conv``'s ``B``), ``per_tensor_zero_points``
(``ConvInteger``'s CPU kernel takes one weight zero point); those cases raise.

The quantised conv (feature ``qlinear``) is ``QLinearConv``, whose CPU kernels take the
deployed dtype triples only (``qlinear_deployed_dtypes``) and requantise with a float32
multiplier (``requantize="float32"``: within one output unit of exact rounding; declared
``"exact"``, it is caught one unit off, e.g. -88 for -87).
"""
import onnxruntime

from convspec._adapters._onnx import FEATURES, INTEGER, OPS, RESTRICTIONS, OneNode

convspec_capabilities = {
    "ops": list(OPS),
    "dtypes": {"max_pool": ["float32", "float64"] + INTEGER["max_pool"], "conv": ["float32"] + INTEGER["conv"],
               "*": ["float32"]},
    "biases": True,
    # ConvInteger's CPU kernel: "Non per-tensor quantization is not supported now"
    "restrictions": {**RESTRICTIONS, "conv": RESTRICTIONS["conv"] + ["per_tensor_zero_points", "qlinear_deployed_dtypes"]},
    # QLinearConv: MLAS requantises with a float32 multiplier (docs/explanation/accuracy.md, requantisation)
    "features": {"*": FEATURES, "conv": ["qlinear"]},
    "requantize": "float32",
}


def _session(model):
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return lambda feeds: session.run(None, feeds)[0]


_ONNX = OneNode(_session)
conv, conv_grad_input = _ONNX.conv, _ONNX.conv_grad_input
max_pool, avg_pool, lp_pool = _ONNX.max_pool, _ONNX.avg_pool, _ONNX.lp_pool
