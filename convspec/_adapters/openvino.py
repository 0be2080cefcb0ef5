"""OpenVINO's CPU plugin (oneDNN JIT kernels) as a convspec backend: each call runs a one-node
ONNX model read by OpenVINO's ONNX front end and compiled for ``CPU`` (``Conv`` becomes
OpenVINO's Convolution or GroupConvolution, ``ConvTranspose`` its ConvolutionBackpropData,
``MaxPool``/``AveragePool`` its pools), one compiled model per operator, dtype, shapes and
attributes, kept.  The one-node models and their translations are :mod:`convspec._adapters._onnx`'s.

Conventions: the CPU plugin's default inference precision is bfloat16 on CPUs with bfloat16
units (AVX512_BF16, AMX), so float32 is asked for as float32 (``INFERENCE_PRECISION_HINT:
f32``); the weights are model inputs, not constants, so OpenVINO compiles the layer without
folding them (a deployed model with constant weights may take other kernels).  Declared float32
only (the CPU plugin computes float64 models in float32).
"""
import functools
import threading

import numpy as np
import openvino

from convspec._adapters._onnx import FEATURES, RESTRICTIONS, OneNode

convspec_capabilities = {
    "ops": ["conv", "conv_grad_input", "max_pool", "avg_pool", "lp_pool"],
    "dtypes": ["float32"],
    "biases": True,
    "restrictions": RESTRICTIONS,
    "features": FEATURES,
}

_CORE = openvino.Core()


def _compiled(model):
    compiled = _CORE.compile_model(_CORE.read_model(model.SerializeToString()), "CPU",
                                   {"INFERENCE_PRECISION_HINT": "f32"})
    requests = threading.local()  # an infer request serves one thread at a time (OpenVINO's rule)

    def run(feeds):
        if not hasattr(requests, "request"):
            requests.request = compiled.create_infer_request()
        return next(iter(requests.request.infer(feeds).values())).copy()
    return run


_OV = OneNode(_compiled)


def _float32(fn):
    """``fn`` for float32 data; other dtypes raise (OpenVINO's CPU plugin computes float64 in float32)."""
    @functools.wraps(fn)
    def call(x, *args, **kwargs):
        if np.asarray(x).dtype != np.float32:
            raise TypeError(f"dtype {np.asarray(x).dtype}: the OpenVINO adapter offers float32 only")
        return fn(x, *args, **kwargs)
    return call


conv, conv_grad_input = _float32(_OV.conv), _float32(_OV.conv_grad_input)
max_pool, avg_pool, lp_pool = _float32(_OV.max_pool), _float32(_OV.avg_pool), _float32(_OV.lp_pool)
