"""Real deviations of the libraries behind the shipped adapters, each with its confirmation
by independent arithmetic: the library's answer on a small case beside a few lines of plain
NumPy in float64, not convspec's reference.  ``convspec scoreboard`` attributes failures to
these; a failure no entry explains is listed as unconfirmed, never as a library bug.
Conventions a library documents are listed apart: the adapters translate them.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Deviation:
    adapter: str
    properties: tuple  # globs over the property names it explains
    what: str  # what the library does, one line
    confirm: Callable[[], tuple]  # () -> (still there, evidence: the library's answer beside the arithmetic)

    def explains(self, adapter: str, prop: str) -> bool:
        return adapter == self.adapter and any(fnmatch.fnmatchcase(prop, g) for g in self.properties)


def _torch_lp_pool_overflow():
    import torch
    import torch.nn.functional as F

    got = F.lp_pool1d(torch.full((1, 1, 2), 3e19), 2.0, 2, 2).numpy().ravel()
    want = np.sqrt(2 * 3e19 ** 2)  # float64: 4.24e19, far inside float32's range (3.4e38)
    return (not np.isfinite(got[0]), f"F.lp_pool1d([3e19, 3e19] float32, p=2, window 2) = {got[0]}; "
                                     f"sqrt(3e19² + 3e19²) = {want:.4g} (float64), representable in float32")


def _torch_lp_pool_ceil():
    import torch
    import torch.nn.functional as F

    got = F.lp_pool1d(torch.tensor([[[3.0, 4.0, 5.0]]]), 2.0, 2, 2, ceil_mode=True).numpy().ravel()
    want = np.array([np.sqrt(3.0 ** 2 + 4.0 ** 2), np.sqrt(5.0 ** 2)])  # the last window holds 5 alone
    return (not np.allclose(got, want), f"F.lp_pool1d([3, 4, 5], p=2, window 2, stride 2, ceil_mode=True) = "
                                        f"{[round(float(v), 4) for v in got]}; (3² + 4²)^½ = 5 and (5²)^½ = 5: the "
                                        "overhanging window is scaled by window / elements in it")


def _scipy_direct_nan_through_padding():
    import scipy.signal

    x = np.array([[1.0, np.nan, 2.0]])
    got = scipy.signal.correlate(x, np.ones((2, 2)), mode="full", method="direct")
    want = x[0, 0] * 1.0  # full[0, 0] holds x[0, 0] * w[1, 1] alone
    return (bool(np.isnan(got[0, 0])), f"scipy.signal.correlate([[1, nan, 2]], ones((2, 2)), 'full', method='direct')"
                                       f"[0, 0] = {got[0, 0]}; the sum holds only 1 * 1 = {want}")


def _jax_flushes_subnormals():
    import jax.numpy as jnp

    tiny = np.float32(-6.3e-39)  # a float32 subnormal (below 1.18e-38)
    got = float((jnp.asarray(np.array([tiny])) * np.float32(1.0))[0])
    return (got == 0.0, f"jnp.asarray([{tiny}], float32) * 1 = {got}; the product is {float(tiny)} (subnormal, exact): "
                        "XLA on CPU flushes subnormal inputs and results to zero, as JAX documents (its 'sharp bits')")


def _ort_one_node(op, x, **attrs):
    """ONNX Runtime's answer for one node on a float32 input (built here, not by the adapter)."""
    import onnx
    import onnxruntime
    from onnx import TensorProto, helper

    node = helper.make_node(op, ["x"], ["y"], **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = min(model.ir_version, onnx.IR_VERSION)
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0].ravel()


def _ort_max_pool_lowest_not_minus_inf():
    nan = _ort_one_node("MaxPool", np.array([[[np.nan, np.nan]]], np.float32), kernel_shape=[2])
    neg = _ort_one_node("MaxPool", np.array([[[-np.inf, -np.inf]]], np.float32), kernel_shape=[2])
    want_nan, want_neg = np.max([np.nan, np.nan]), np.max([-np.inf, -np.inf])  # nan, -inf
    return (not np.isnan(nan[0]) or neg[0] != want_neg,
            f"MaxPool(window 2) of [nan, nan] = {nan[0]} (numpy.max: {want_nan}); of [-inf, -inf] = {neg[0]} "
            f"(numpy.max: {want_neg}): each window starts at the lowest finite float32 and skips NaN")


def _ort_lp_pool_overflow():
    got = _ort_one_node("LpPool", np.array([[[3e19, 3e19]]], np.float32), kernel_shape=[2], p=2)
    want = np.sqrt(2 * 3e19 ** 2)
    return (not np.isfinite(got[0]), f"LpPool([3e19, 3e19] float32, p=2, window 2) = {got[0]}; sqrt(3e19² + 3e19²) "
                                     f"= {want:.4g} (float64), representable in float32")


DEVIATIONS = [
    Deviation("torch", ("lp_pool_accuracy", "lp_pool_large"),
              "lp_pool raises |x|^p in the input dtype: float32 overflows where the norm does not", _torch_lp_pool_overflow),
    Deviation("torch", ("lp_pool_*",), "lp_pool in ceil mode scales an overhanging window's sum by window / "
              "elements (PyTorch computes it as an average times the window size)", _torch_lp_pool_ceil),
    Deviation("onnxruntime", ("max_pool_propagates_nan", "max_pool_special_values"),
              "MaxPool starts each window at the lowest finite value instead of -inf and skips NaN: an all-NaN or "
              "all--inf window gives -3.4e38 in float32", _ort_max_pool_lowest_not_minus_inf),
    Deviation("onnxruntime", ("lp_pool_accuracy", "lp_pool_large"),
              "LpPool raises |x|^p in float32: it overflows where the norm does not", _ort_lp_pool_overflow),
    Deviation("scipy", ("correlate_special_values", "convolve_special_values"),
              "correlate/convolve(method='direct') swap the inputs when the kernel is larger on an axis and multiply "
              "padding zeros: a NaN reaches outputs whose sum does not hold it", _scipy_direct_nan_through_padding),
]

#: Documented behaviours that fail properties but are the library's stated semantics, not bugs:
#: attributed like deviations, with the same kind of confirmation, and listed as conventions.
DOCUMENTED = [
    Deviation("jax", ("*_accuracy", "*_large", "*_definition"),
              "XLA on CPU flushes subnormal inputs and results to zero (documented by JAX)", _jax_flushes_subnormals),
]

#: Documented conventions the adapters translate (not deviations).
CONVENTIONS = {
    "torch": ["padding is symmetric (asymmetric padding goes through F.pad); pooling padding is at most half the "
              "window", "lp_pool is documented as (sum x^p)^(1/p), without the absolute value: the adapter passes |x|",
              "avg_pool's divisor rules differ from the contract's: the adapter divides window sums by counts itself"],
    "jax": ["float64 needs jax_enable_x64 (set by the adapter)", "float32 convolutions ask for Precision.HIGHEST",
            "the average is window sums over the count of elements that count (JAX has no average pool of its own)"],
    "onnxruntime": ["pads are all begins, then all ends", "the contract's ceil-mode overhang is passed as extra end "
                    "padding with ceil_mode=0", "declared per function: MaxPool float32/float64, the rest float32; "
                    "LpPool takes an integer p and Conv a shared bias only (other examples declined)"],
    "scipy": ["the layer (conv) is assembled from single-channel scipy.signal.correlate calls"],
    "scipy-ndimage": ["maximum_filter skips NaN (documented for ndimage filters' comparisons): the adapter marks "
                      "windows holding NaN", "filters centre windows at k // 2: the adapter shifts the origin"],
}


def explain(adapter: str, prop: str, message: str = "") -> Deviation | None:
    """The deviation, or documented behaviour, a failure is attributed to (``None``: unexplained).
    A documented subnormal flush explains only a failure whose expected value is subnormal."""
    for d in DOCUMENTED:
        if d.explains(adapter, prop) and _subnormal_expected(message):
            return d
    return next((d for d in DEVIATIONS if d.explains(adapter, prop)), None)


def _subnormal_expected(message: str) -> bool:
    """Whether a failure message's expected value is a float32 subnormal (0 < |v| < 1.18e-38)."""
    import re

    found = re.search(r"but should be (-?[0-9.]+(?:e[-+]?\d+)?)", message)
    return bool(found) and 0 < abs(float(found.group(1))) < float(np.finfo(np.float32).tiny)
