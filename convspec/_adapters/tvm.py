"""Apache TVM as a convspec backend: the compiler path a user takes to deploy a model on a CPU.
Each call's one-node ONNX model (:mod:`convspec._adapters._onnx`) is imported by TVM's Relax
ONNX front end, compiled by ``tvm.compile`` for the ``llvm`` target (the Relax pipeline lowers
``Conv`` to TOPI's convolution, ``ConvTranspose`` to its transposed convolution, the pools to
TOPI's pools, and LLVM generates the machine code) and run by the Relax virtual machine; one
compiled module per operator, dtype, shapes and attributes, kept.  TVM compiles per shape, so
the profile ``jit`` suits it.

Conventions translated, never results: those of the ONNX adapters (``pads`` all begins then all
ends, the ceil-mode overhang as extra end padding, ``conv_grad_input`` as ``ConvTranspose``
with ``output_padding``).  Declared as the front end imports them: float32 and float64, the
restrictions of the ONNX operators (``shared_bias_only``, ``integer_p``,
``no_count_padding_in_ceil_mode``).
"""
import threading
import warnings

import numpy as np
import tvm
from tvm import relax
from tvm.relax.frontend.onnx import from_onnx

from convspec._adapters._onnx import FEATURES, OPS, RESTRICTIONS, OneNode

convspec_capabilities = {"ops": list(OPS), "dtypes": ["float32", "float64"], "biases": True,
                         "restrictions": RESTRICTIONS, "features": FEATURES}


def _compiled(model):
    with warnings.catch_warnings():  # the one-node models leave the output's shape to the importer
        warnings.simplefilter("ignore", UserWarning)
        module = from_onnx(model)
    executable = tvm.compile(module, target="llvm")
    names = [i.name for i in model.graph.input]
    machines = threading.local()  # one virtual machine per thread

    def run(feeds):
        if not hasattr(machines, "vm"):
            machines.vm = relax.VirtualMachine(executable, tvm.cpu())
        out = machines.vm["main"](*(tvm.runtime.tensor(np.ascontiguousarray(feeds[n])) for n in names))
        return out.numpy()
    return run


_TVM = OneNode(_compiled)
conv, conv_grad_input = _TVM.conv, _TVM.conv_grad_input
max_pool, avg_pool, lp_pool = _TVM.max_pool, _TVM.avg_pool, _TVM.lp_pool
