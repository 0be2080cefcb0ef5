"""Shipped adapters: the libraries people use, as convspec targets (``convspec check torch``).

An adapter translates conventions only (argument layout, asymmetric padding, which function
computes what) and never fixes a result; what the library computes is what is judged.  The
library is not a dependency of convspec: an adapter whose package is missing is a load error
naming it.
"""

import os

#: adapter name -> (module, the package it needs, what it covers)
ADAPTERS = {
    "torch": ("convspec._adapters.torch", "torch",
              "torch.nn.functional conv1d/2d/3d, autograd gradients, max/avg/lp/adaptive pools"),
    "jax": ("convspec._adapters.jax", "jax",
            "jax.lax conv_general_dilated, gradients by jax.vjp, reduce_window max and average pools"),
    "onnxruntime": ("convspec._adapters.onnxruntime", "onnxruntime",
                    "ONNX Runtime (CPU) Conv, ConvTranspose, MaxPool, AveragePool, LpPool as one-node models"),
    "onnx-reference": ("convspec._adapters.onnx_reference", "onnx",
                       "ONNX's reference evaluator (NumPy) on the same one-node models"),
    "tensorflow": ("convspec._adapters.tensorflow", "tensorflow",
                   "TensorFlow (CPU) tf.nn.convolution, GradientTape gradients, tf.nn.pool max and average pools"),
    "tinygrad": ("convspec._adapters.tinygrad", "tinygrad",
                 "tinygrad Tensor.conv2d (N-D), autograd gradients, max_pool2d/avg_pool2d (device from DEV)"),
    "scipy": ("convspec._adapters.scipy", "scipy",
              "scipy.signal correlate/convolve (direct method) and a layer built from its correlations"),
    "scipy-ndimage": ("convspec._adapters.scipy_ndimage", "scipy",
                      "scipy.ndimage maximum_filter/uniform_filter as max and average pooling"),
    "opencv": ("convspec._adapters.opencv", "cv2",
               "OpenCV cv2.filter2D as 1-D/2-D correlate and convolve (direct below 50 taps, DFT above)"),
    "astropy": ("convspec._adapters.astropy", "astropy",
                "astropy.convolution.convolve (direct) as N-D correlate and convolve, odd kernels"),
    "astropy-fft": ("convspec._adapters.astropy_fft", "astropy",
                    "astropy.convolution.convolve_fft as N-D correlate and convolve, odd kernels"),
    "openvino": ("convspec._adapters.openvino", "openvino",
                 "OpenVINO (CPU plugin) Convolution, GroupConvolution, ConvolutionBackpropData, MaxPool, AvgPool, LpPool "
                 "from one-node ONNX models"),
    "paddle": ("convspec._adapters.paddle", "paddle",
               "PaddlePaddle (CPU) paddle.nn.functional conv1d/2d/3d, autograd gradients, max/avg/lp/adaptive pools"),
    "tvm": ("convspec._adapters.tvm", "tvm",
            "Apache TVM: one-node ONNX models through the Relax front end, compiled for llvm (Conv, ConvTranspose, "
            "MaxPool, AveragePool, LpPool)"),
    "mlx": ("convspec._adapters.mlx", "mlx",
            "MLX (CPU back end) conv_general, gradients by mlx.core.vjp, mlx.nn max and average pools"),
    "keras": ("convspec._adapters.keras", "keras",
              "Keras 3 keras.ops conv, max_pool, average_pool, channels first, on its configured back end"),
    "litert": ("convspec._adapters.litert", "ai_edge_litert",
               "LiteRT (TFLite interpreter, XNNPACK) CONV_2D and MAX_POOL_2D (1-D, 2-D) from converted tf.nn graphs"),
}


#: the adapters whose libraries compile per shape: the scoreboard checks them shape-stable
#: (profile jit: a few fixed shapes per property, so each compiles once)
COMPILES_PER_SHAPE = ("jax", "tvm", "openvino", "litert", "tinygrad")


def _tinygrad_device() -> str | None:
    import shutil

    if os.environ.get("DEV") or shutil.which(os.environ.get("CC", "clang")):
        return None
    return "its CPU device compiles with clang, which this machine lacks; DEV=PYTHON runs its interpreter"


#: adapter name -> a probe that says why the installed library cannot run here (None: it can)
UNUSABLE = {"tinygrad": _tinygrad_device}


def _torch_dispatch() -> str:
    import re

    import torch

    onednn = re.search(r"MKL-DNN (v[0-9.]+)|oneDNN (v[0-9.]+)", torch.__config__.show())
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA")
    return (f"ATen {torch.backends.cpu.get_cpu_capability()}"
            + (f", oneDNN {next(v for v in onednn.groups() if v)}" if onednn else "")
            + (f", ONEDNN_MAX_CPU_ISA={isa}" if isa else ""))


def _openvino_dispatch() -> str:
    import openvino

    return "CPU plugin " + ", ".join(openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))


#: adapter name -> a probe of the kernels its library picks on this CPU (where it says)
DISPATCH = {"torch": _torch_dispatch, "openvino": _openvino_dispatch}


def dispatch(name: str) -> str:
    """What the library of adapter ``name`` says it dispatches to here ("" where it says
    nothing or cannot be asked)."""
    try:
        return DISPATCH[name]() if name in DISPATCH else ""
    except Exception:  # the library is missing or cannot be asked: nothing to record
        return ""
