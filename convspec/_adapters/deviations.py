"""Real deviations of the libraries behind the shipped adapters, each with its confirmation
by independent arithmetic: the library's answer on a small case beside a few lines of plain
NumPy in float64, not convspec's reference.  ``convspec scoreboard`` attributes failures to
these; a failure no entry explains is listed as unconfirmed, never as a library bug.
Conventions a library documents are listed apart: the adapters translate them.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np


#: What goes wrong, by kind (the scoreboard's summary table across libraries).
KINDS = {"NaN": "NaN dropped or invented", "infinity": "infinities clamped or taken as NaN",
         "overflow": "an intermediate overflows where the result does not", "padding": "padding, ceil-mode and "
         "window rules", "wrong sums": "wrong values on valid finite input", "crash": "raises on a valid call",
         "subnormals": "subnormals flushed to zero"}


@dataclass(frozen=True)
class Deviation:
    adapter: str
    properties: tuple  # globs over the property names it explains
    what: str  # what the library does, one line
    confirm: Callable[[], tuple]  # () -> (still there, evidence: the library's answer beside the arithmetic)
    says: str = ""  # a pattern the failure's message must hold (several deviations on one property)
    cpu: tuple = ()  # CPU extensions (/proc/cpuinfo flags) it shows on; elsewhere the library is right
    when: Callable[[str], bool] | None = None  # documented behaviours: which failure messages it can cause
    kind: str = ""  # one of KINDS: what goes wrong, for the board's summary across libraries

    def explains(self, adapter: str, prop: str, message: str = "") -> bool:
        return adapter == self.adapter and any(fnmatch.fnmatchcase(prop, g) for g in self.properties) \
            and (not self.says or re.search(self.says, message) is not None)


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


def _astropy_fft_inf_as_nan():
    from astropy.convolution import convolve_fft

    got = convolve_fft(np.array([1.0, -np.inf, 2.0]), np.array([0.0, 0.5, 0.0]), boundary="fill", fill_value=0.0,
                       normalize_kernel=False, nan_treatment="fill")
    want = -np.inf * 0.5  # float64: the middle output's sum holds -inf times 0.5
    return (bool(np.isfinite(got[1])), f"astropy convolve_fft([1, -inf, 2], [0, 0.5, 0], fill 0)[1] = {got[1]}; "
                                       f"-inf * 0.5 = {want}: convolve_fft treats inf as NaN and fills it, as its "
                                       "documentation says")


def _plain_correlate2d(x, w, stride, dilation):
    """The layer's sum for one channel, in float64 loops: y[i, j] = sum_mn x[s0 i + d0 m, s1 j + d1 n] w[m, n]."""
    (s0, s1), (d0, d1) = stride, dilation
    rows = (x.shape[0] - d0 * (w.shape[0] - 1) - 1) // s0 + 1
    cols = (x.shape[1] - d1 * (w.shape[1] - 1) - 1) // s1 + 1
    y = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            for m in range(w.shape[0]):
                for n in range(w.shape[1]):
                    y[i, j] += float(x[s0 * i + d0 * m, s1 * j + d1 * n]) * float(w[m, n])
    return y


def _torch_bf16_conv_on_this_cpu():
    """PyTorch's bfloat16 conv2d on data whose every product and sum is exact in bfloat16: on
    CPUs with AMX (oneDNN's AVX512_CORE_AMX path, PyTorch 2.13.0) the answer differs from the
    sum; elsewhere it is exact.  The geometry is the one the catalogue found (stride (1, 2),
    dilation (1, 3)), then a few more; the CPU is named in the evidence."""
    import torch
    import torch.nn.functional as F

    from convspec._engine.machine import describe

    rng = np.random.default_rng(9)
    cases = [((6, 7), (2, 3), (1, 2), (1, 3)), ((8, 9), (3, 3), (1, 1), (1, 1)), ((7, 11), (2, 2), (2, 1), (2, 2)),
             ((5, 13), (1, 4), (1, 3), (1, 2))]
    shown = []
    for xs, ws, stride, dilation in cases:
        x = rng.integers(-4, 5, xs) / 4.0  # quarters in [-1, 1]: products are sixteenths, sums stay below 2^7
        w = rng.integers(-4, 5, ws) / 4.0
        got = F.conv2d(torch.tensor(x[None, None], dtype=torch.bfloat16), torch.tensor(w[None, None],
                       dtype=torch.bfloat16), stride=stride, dilation=dilation).float().numpy()[0, 0].astype(np.float64)
        want = _plain_correlate2d(x, w, stride, dilation)
        if not np.array_equal(got, want):
            shown.append(f"x {xs}, w {ws}, stride {stride}, dilation {dilation}: F.conv2d in bfloat16 gives "
                         f"{got.ravel()[:6].tolist()}, the sums in float64 (exact in bfloat16) "
                         f"{want.ravel()[:6].tolist()}")
    cpu = f"CPU {describe()}, torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()})"
    if shown:
        return True, "; ".join(shown[:2]) + f" [{len(shown)} of {len(cases)} layers wrong; {cpu}]"
    return False, f"all {len(cases)} bfloat16 layers exact on this machine ({cpu})"


def _one_node(runtime, op, *inputs, out="float32", **attrs):
    """ONNX Runtime's (``runtime="ort"``) or ONNX's reference evaluator's answer for one node on
    ``inputs`` (their own dtypes), built here, not by the adapter; an exception raised is
    returned as the answer."""
    import onnx
    from onnx import helper

    names = [f"x{i}" for i in range(len(inputs))]
    node = helper.make_node(op, names, ["y"], **attrs)
    kind = lambda dtype: helper.np_dtype_to_tensor_dtype(np.dtype(dtype))  # noqa: E731
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(n, kind(x.dtype), x.shape)
                                            for n, x in zip(names, inputs)],
                              [helper.make_tensor_value_info("y", kind(out), None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = min(model.ir_version, onnx.IR_VERSION)
    feeds = dict(zip(names, inputs))
    try:
        if runtime == "tvm":
            import warnings

            import tvm
            from tvm import relax
            from tvm.relax.frontend.onnx import from_onnx

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                machine = relax.VirtualMachine(tvm.compile(from_onnx(model), target="llvm"), tvm.cpu())
            return machine["main"](*(tvm.runtime.tensor(x) for x in inputs)).numpy().ravel()
        if runtime == "openvino":
            import openvino

            core = openvino.Core()
            compiled = core.compile_model(core.read_model(model.SerializeToString()), "CPU",
                                          {"INFERENCE_PRECISION_HINT": "f32"})
            return next(iter(compiled.create_infer_request().infer(feeds).values())).ravel()
        if runtime == "ort":
            import onnxruntime

            session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
            return session.run(None, feeds)[0].ravel()
        from onnx.reference import ReferenceEvaluator

        return ReferenceEvaluator(model).run(None, feeds)[0].ravel()
    except Exception as e:
        return e


def _ref_max_pool_padding_ignored():
    x = np.arange(5, dtype=np.float32).reshape(1, 1, 5)  # [0, 1, 2, 3, 4]
    end = _one_node("reference", "MaxPool", x, kernel_shape=[2], pads=[0, 1])
    begin = _one_node("reference", "MaxPool", x, kernel_shape=[2], pads=[1, 0])
    xs = x.ravel().tolist()
    want_end = [max(a, b) for a, b in zip(xs, xs[1:] + [-np.inf])]  # windows over [0..4, pad]
    want_begin = [max(a, b) for a, b in zip([-np.inf] + xs, xs)]  # windows over [pad, 0..4]
    cube = _one_node("reference", "MaxPool", x.reshape(1, 1, 5, 1, 1), kernel_shape=[2, 1, 1], pads=[1, 0, 0, 1, 0, 0])
    shown = [v.tolist() if isinstance(v, np.ndarray) else f"{type(v).__name__}: {str(v)[:50]}" for v in (end, begin, cube)]
    return (isinstance(begin, Exception) or len(end) != len(want_end) or isinstance(cube, Exception),
            f"1-D MaxPool(x=[0, 1, 2, 3, 4], kernel 2) with pads [0, 1] = {shown[0]}, with pads [1, 0] = {shown[1]}; "
            f"the windows of the padded inputs give {want_end} and {want_begin}; the same x as a 3-D (5, 1, 1) input, "
            f"kernel (2, 1, 1), pads (1, 0, 0, 1, 0, 0) = {shown[2]}")


def _ref_max_pool_integer():
    signed = _one_node("reference", "MaxPool", np.array([[[[-3, -1]]]], np.int8), out="int8", kernel_shape=[1, 2])
    padded = _one_node("reference", "MaxPool", np.array([[[[1], [2]]]], np.uint8), out="uint8", kernel_shape=[2, 1],
                       pads=[1, 0, 1, 0])
    want_signed, want_padded = max(-3, -1), [1, max(1, 2), 2]  # windows [pad, 1], [1, 2], [2, pad]: padding never wins
    shown = [v.tolist() if isinstance(v, np.ndarray) else f"{type(v).__name__}: {str(v)[:50]}" for v in (signed, padded)]
    return (isinstance(signed, Exception) or list(padded) != want_padded,
            f"2-D MaxPool of int8 [[-3, -1]], kernel (1, 2) = {shown[0]}; max(-3, -1) = {want_signed}. 2-D MaxPool of "
            f"uint8 [[1], [2]], kernel (2, 1), pads (1, 0, 1, 0) = {shown[1]}; the padded windows give {want_padded}")


def _padding_only(runtime, op, shape=(1, 1, 1), **attrs):
    """``op``'s answer on one window whose taps are all padding: x of ones, kernel 2 on the last
    axis, dilation 2 with one pad each side (taps -1 and 1; the input is position 0)."""
    nd = len(shape) - 2
    ones = [1] * (nd - 1)
    return _one_node(runtime, op, np.ones(shape, np.float32), kernel_shape=ones + [2], dilations=ones + [2],
                     pads=[0] * (nd - 1) + [1] + [0] * (nd - 1) + [1], **attrs)


def _avg_pool_padding_only(runtime):
    got = _padding_only(runtime, "AveragePool", count_include_pad=0)
    with np.errstate(invalid="ignore"):
        want = np.float32(0) / np.float32(0)  # the sum over no input element / their count
    return (bool(np.isfinite(got[0])), f"AveragePool(ones(1), kernel 2, dilation 2, pads [1, 1], count_include_pad=0) "
                                       f"= {got[0]}: its only window (taps -1, 1) holds padding only, so the mean is "
                                       f"over no element: 0 / 0 = {want} (numpy.mean of an empty array: nan)")


def _ref_max_pool_padding_only():
    one, two = _padding_only("reference", "MaxPool")[0], _padding_only("reference", "MaxPool", (1, 1, 1, 1))[0]
    want = np.max(np.array([-np.inf, -np.inf]))  # padding is -inf: it never wins, and holds nothing else here
    return (not (one == want and two == want), f"MaxPool(ones, kernel 2, dilation 2, pads [1, 1]) over a window of "
                                               f"padding only = {one} (1-D), {two} (2-D); the max of padding alone "
                                               f"is {want}")


def _ref_pools_skip_nan():
    x = np.array([[[1.0, np.nan, 3.0]]], np.float32)
    got = {op: _one_node("reference", op, x, kernel_shape=[3], **kw)[0]
           for op, kw in (("AveragePool", {}), ("LpPool", {"p": 2}), ("MaxPool", {}))}
    want = (np.mean([1.0, np.nan, 3.0]), np.sqrt(np.sum(np.square([1.0, np.nan, 3.0]))), np.max([1.0, np.nan, 3.0]))
    alone = _one_node("reference", "MaxPool", np.array([[[np.nan]]], np.float32), kernel_shape=[1])
    alone = f"{type(alone).__name__}: {str(alone)[:60]}" if isinstance(alone, Exception) else alone.tolist()
    return (not any(np.isnan(v) for v in got.values()),
            f"on [1, nan, 3] (window 3): AveragePool = {got['AveragePool']}, LpPool(p=2) = {got['LpPool']}, "
            f"MaxPool = {got['MaxPool']}; numpy's mean, L2 norm and max: {want[0]}, {want[1]}, {want[2]}; "
            f"MaxPool([nan], window 1) = {alone} (numpy.max: nan)")


def _ref_grouped_conv_transpose():
    gy, w = np.ones((1, 4, 1), np.float32), np.ones((4, 1, 1), np.float32)
    got = _one_node("reference", "ConvTranspose", gy, w, kernel_shape=[1], group=2)
    want = np.stack([gy[0, :2, 0].sum(), gy[0, 2:, 0].sum()])  # each input channel gathers its group's two outputs
    g2, w2, b2 = np.array([[[1.0], [2.0]]], np.float32), np.array([[[3.0]], [[5.0]]], np.float32), np.array([10.0, 20.0], np.float32)
    biased = _one_node("reference", "ConvTranspose", g2, w2, b2, kernel_shape=[1], group=2)
    want_biased = [1 * 3 + 10, 2 * 5 + 20]  # channel c gets B[c]
    return (isinstance(got, Exception) or list(biased) != want_biased,
            f"ConvTranspose(ones (1, 4, 1), ones (4, 1, 1), group=2) = {type(got).__name__}: {str(got)[:60]}; the "
            f"gradient of a grouped 1x1 layer is {want.tolist()}. ConvTranspose([1, 2], [3, 5], B=[10, 20], group=2) "
            f"= {biased.tolist()}; 1*3 + 10, 2*5 + 20 = {want_biased}")


def _ref_pools_ceil_dilated():
    x = np.array([[[8.0, -12.0, -32.0, -28.0]]], np.float32)
    attrs = dict(kernel_shape=[2], strides=[3], dilations=[2], ceil_mode=1)
    avg = _one_node("reference", "AveragePool", x, **attrs)
    lp = _one_node("reference", "LpPool", x, p=2, **attrs)
    # windows: taps 0, 2 and taps 3, 5 (5 lies past the input: only -28 counts)
    want_avg, want_lp = [(8.0 - 32.0) / 2, -28.0], [float(np.hypot(8.0, 32.0)), 28.0]
    return (bool(avg[1] != want_avg[1] or abs(lp[1] - want_lp[1]) > 1e-4),
            f"on [8, -12, -32, -28] with kernel 2, dilation 2, stride 3, ceil_mode=1: AveragePool = {avg.tolist()}, "
            f"LpPool(p=2) = {lp.tolist()}; the windows hold (8, -32) and (-28): {want_avg} and {want_lp}")


def _ref_conv_integer_not_2d():
    zero, zw = np.array(0, np.uint8), np.array([0, 1], np.uint8)  # one w zero point per output channel, as ONNX allows
    got = {}
    for nd in (1, 3):  # x = 1 and w = 3 on two output channels, a kernel of one tap
        x, w = np.ones((1, 1) + (1,) * nd, np.uint8), np.full((2, 1) + (1,) * nd, 3, np.uint8)
        got[nd] = _one_node("reference", "ConvInteger", x, w, zero, zw, out="int32", kernel_shape=[1] * nd)
    want = [1 * (3 - 0), 1 * (3 - 1)]
    shown = {nd: v.tolist() if isinstance(v, np.ndarray) else f"{type(v).__name__}: {str(v)[:70]}"
             for nd, v in got.items()}
    return (any(isinstance(v, Exception) for v in got.values()),
            f"ConvInteger(x = 1, w = 3 on two output channels, w_zero_point = [0, 1]) in 1-D = {shown[1]}, in 3-D = "
            f"{shown[3]}; 1 (3 - 0), 1 (3 - 1) = {want}")


def _ref_qlinear_conv_per_channel_not_2d():
    unit, zero = np.array(1.0, np.float32), np.array(0, np.int8)  # unit x_scale and y_scale, zero points 0
    w_scale = np.array([1.0, 2.0], np.float32)  # one scale per output channel
    got, want = {}, {}
    for nd, spatial in ((1, (1,)), (3, (2, 1, 1))):  # x = 1 everywhere, w = 1 (one tap): channel o is w_scale[o]
        x, w = np.ones((1, 1) + spatial, np.int8), np.ones((2, 1) + (1,) * nd, np.int8)
        got[nd] = _one_node("reference", "QLinearConv", x, unit, zero, w, w_scale, zero, unit, zero, out="int8",
                            kernel_shape=[1] * nd)
        want[nd] = np.stack([np.full((1,) + spatial, float(s)) for s in w_scale], axis=1)  # (1, 2, *spatial)
    show = lambda v: f"{np.size(v)} values {np.ravel(v).astype(int).tolist()}" if isinstance(v, np.ndarray) \
        else str(v)[:60]  # noqa: E731
    wrong = any(not isinstance(got[nd], np.ndarray) or np.size(got[nd]) != want[nd].size
                or not np.array_equal(np.ravel(got[nd]), want[nd].ravel()) for nd in got)
    return (wrong, f"QLinearConv(x = 1, w = 1 on two output channels, w_scale = [1, 2], unit x_scale and y_scale): "
                   f"1-D gives {show(got[1])}, wanted {show(want[1])}; 3-D over a depth of 2 gives {show(got[3])}, "
                   f"wanted {show(want[3])}: the per-channel scale is broadcast as (1, C, 1, 1), right in 2-D only")


def _ort_max_pool_lowest_not_minus_inf():
    nan = _one_node("ort", "MaxPool", np.array([[[np.nan, np.nan]]], np.float32), kernel_shape=[2])
    neg = _one_node("ort", "MaxPool", np.array([[[-np.inf, -np.inf]]], np.float32), kernel_shape=[2])
    want_nan, want_neg = np.max([np.nan, np.nan]), np.max([-np.inf, -np.inf])  # nan, -inf
    return (not np.isnan(nan[0]) or neg[0] != want_neg,
            f"MaxPool(window 2) of [nan, nan] = {nan[0]} (numpy.max: {want_nan}); of [-inf, -inf] = {neg[0]} "
            f"(numpy.max: {want_neg}): each window starts at the lowest finite float32 and skips NaN")


def _openvino_max_pool_lowest_not_minus_inf():
    nan = _one_node("openvino", "MaxPool", np.array([[[1.0, np.nan]]], np.float32), kernel_shape=[2])
    neg = _one_node("openvino", "MaxPool", np.array([[[-np.inf, -np.inf]]], np.float32), kernel_shape=[2])
    want_nan, want_neg = np.max([1.0, np.nan]), np.max([-np.inf, -np.inf])  # nan, -inf
    return (not np.isnan(nan[0]) or neg[0] != want_neg,
            f"MaxPool(window 2) of [1, nan] = {nan[0]} (numpy.max: {want_nan}); of [-inf, -inf] = {neg[0]} "
            f"(numpy.max: {want_neg}): each window starts at the lowest finite float32 and skips NaN")


def _paddle_max_lowest_not_minus_inf():
    import paddle
    import paddle.nn.functional as F

    def pool(fn, values, *args):
        return float(fn(paddle.to_tensor(np.array([[values]], np.float32)), *args).numpy().ravel()[0])
    got = {"max_pool1d [nan, 1]": pool(F.max_pool1d, [np.nan, 1.0], 2, 2),
           "max_pool1d [-inf, -inf]": pool(F.max_pool1d, [-np.inf, -np.inf], 2, 2),
           "adaptive_max_pool1d [nan, 2]": pool(F.adaptive_max_pool1d, [np.nan, 2.0], 1),
           "adaptive_max_pool1d [-inf, -inf]": pool(F.adaptive_max_pool1d, [-np.inf, -np.inf], 1)}
    want = {k: float(np.max(np.array([float(v) for v in k.split("[")[1].rstrip("]").split(", ")]))) for k in got}
    wrong = {k: v for k, v in got.items() if not (v == want[k] or (np.isnan(v) and np.isnan(want[k])))}
    return (bool(wrong), "; ".join(f"{k} = {v} (numpy.max: {want[k]})" for k, v in got.items()))


def _paddle_lp_pool_overflow():
    import paddle
    import paddle.nn.functional as F

    got = float(F.lp_pool1d(paddle.to_tensor(np.full((1, 1, 2), 3e19, np.float32)), 2.0, 2, 2).numpy().ravel()[0])
    want = np.sqrt(2 * 3e19 ** 2)  # float64: 4.24e19, far inside float32's range
    return (not np.isfinite(got), f"F.lp_pool1d([3e19, 3e19] float32, p=2, window 2) = {got}; sqrt(3e19² + 3e19²) = "
                                  f"{want:.4g} (float64), representable in float32")


def _lp_pool_overflow(runtime):
    got = _one_node(runtime, "LpPool", np.array([[[3e19, 3e19]]], np.float32), kernel_shape=[2], p=2)
    want = np.sqrt(2 * 3e19 ** 2)
    return (not np.isfinite(got[0]), f"LpPool([3e19, 3e19] float32, p=2, window 2) = {got[0]}; sqrt(3e19² + 3e19²) "
                                     f"= {want:.4g} (float64), representable in float32")


def _tensorflow():
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    return tf


def _tf_conv3d_gradient_raises():
    tf = _tensorflow()
    x = tf.Variable(np.ones((1, 2, 2, 2, 1), np.float32))  # channels last: a 2 x 2 x 2 volume
    w = tf.constant(np.ones((1, 1, 1, 1, 1), np.float32))  # one tap of weight 1
    got = {}
    for name, layer in (("tf.nn.convolution", lambda: tf.nn.convolution(x, w, padding="VALID")),
                        ("tf.nn.conv3d", lambda: tf.nn.conv3d(x, w, strides=[1] * 5, padding="VALID"))):
        try:
            with tf.GradientTape() as tape:
                y = layer()
            got[name] = tape.gradient(y, x).numpy().ravel().tolist()
        except Exception as e:
            got[name] = f"{type(e).__name__}: {str(e)[:60]}"
    want = np.ones(8).tolist()  # d sum(y) / dx = w = 1 at every input position
    return (isinstance(got["tf.nn.convolution"], str),
            f"GradientTape of sum(tf.nn.convolution(x, one tap of 1)) over a 2x2x2 volume: {got['tf.nn.convolution']}; "
            f"of the same tf.nn.conv3d: {got['tf.nn.conv3d']}; d sum(y) / dx = w = {want}")


def _tf_max_pool_lowest_not_minus_inf():
    tf = _tensorflow()
    got = {name: float(tf.nn.pool(tf.constant(np.array(v, np.float32).reshape(1, -1, 1)), [2], "MAX",
                                  padding="VALID").numpy().ravel()[0])
           for name, v in (("[nan, nan]", [np.nan, np.nan]), ("[1, nan]", [1.0, np.nan]), ("[-inf, -inf]", [-np.inf, -np.inf]))}
    want = {"[nan, nan]": np.max([np.nan, np.nan]), "[1, nan]": np.max([1.0, np.nan]), "[-inf, -inf]": -np.inf}
    return (not np.isnan(got["[1, nan]"]) or got["[-inf, -inf]"] != -np.inf,
            "tf.nn.pool(window 2, 'MAX') of " + ", ".join(f"{k} = {v}" for k, v in got.items())
            + "; numpy.max: " + ", ".join(f"{k} = {v}" for k, v in want.items()))


def _tf_flushes_subnormals():
    tf = _tensorflow()
    tiny = np.float32(2.0e-39)  # a float32 subnormal (below 1.18e-38)
    got = float(tf.nn.pool(tf.constant(np.full((1, 2, 1), tiny)), [2], "AVG", padding="VALID").numpy().ravel()[0])
    return (got == 0.0, f"tf.nn.pool([{tiny}, {tiny}] float32, 'AVG', window 2) = {got}; the mean is {float(tiny)} "
                        "(subnormal, exact): TensorFlow sets flush-to-zero on its CPU threads, and its own "
                        "kernel_tests/denormal_test.py asserts that 0.1 * tiny gives 0")


#: LiteRT's side of its confirmations, run in a process of its own: TensorFlow's and LiteRT's
#: libraries loaded beside PaddlePaddle's (and torch's) in one process crash it (a segmentation
#: fault importing paddle), and the scoreboard confirms every library's deviations in one process.
_LITERT_SCRIPT = """
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
kind, values = json.loads(sys.stdin.read())
x = np.array(values, np.float32).reshape(1, -1, 1)  # (N, W, C)
if kind == "conv":  # a 1-D layer, one tap of weight 1 (the weights a model input)
    graph, arrays = (lambda a, k: tf.nn.conv1d(a, k, 1, "VALID")), [x, np.ones((1, 1, 1), np.float32)]
else:  # max pooling, window 2, stride 2
    graph, arrays = (lambda a: tf.nn.max_pool1d(a, 2, 2, "VALID")), [x]
function = tf.function(graph, input_signature=[tf.TensorSpec(a.shape, tf.float32) for a in arrays], autograph=False)
interpreter = Interpreter(model_content=tf.lite.TFLiteConverter.from_concrete_functions(
    [function.get_concrete_function()], function).convert())
interpreter.allocate_tensors()
for detail, a in zip(interpreter.get_input_details(), arrays):
    interpreter.set_tensor(detail["index"], a)
interpreter.invoke()
print(json.dumps([repr(float(v)) for v in interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).ravel()]))
"""


def _litert(kind, values):
    """LiteRT's answer for a 1-D ``kind`` (``"conv"`` or ``"max_pool"``) on ``values``: converted by
    TensorFlow's TFLite converter and run by the interpreter in a process of its own, built
    here, not by the adapter."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _LITERT_SCRIPT], input=json.dumps([kind, values]),
                          capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise RuntimeError(f"LiteRT's confirmation failed: {done.stderr.strip()[-300:]}")
    return np.array([float(v) for v in json.loads(done.stdout.strip().splitlines()[-1])])


def _litert_conv_clamps_infinities():
    x = [-np.inf, 2.0]
    got = _litert("conv", x)
    want = np.array(x, np.float64) * 1.0  # a one-tap kernel of 1: the input itself, -inf and 2
    return (bool(np.isfinite(got[0])), f"CONV_2D (a 1-D layer, one tap of weight 1) of [-inf, 2] = {got.tolist()}; "
                                       f"-inf * 1 = {want[0]}: the result is clamped to the finite float32 range")


def _litert_max_pool_drops_nan():
    got = _litert("max_pool", [np.nan, 1.0, 3.0, np.nan])  # windows (nan, 1) and (3, nan)
    want = [float(np.max([np.nan, 1.0])), float(np.max([3.0, np.nan]))]  # numpy: a window holding NaN is NaN
    return (not np.all(np.isnan(got)), f"MAX_POOL_2D (window 2, stride 2) of [nan, 1, 3, nan] = {got.tolist()}; "
                                       f"numpy.max of the windows: {want}")


def _tinygrad():
    import os
    import shutil

    if not os.environ.get("DEV") and shutil.which("clang") is None:
        os.environ["DEV"] = "PYTHON"  # tinygrad's interpreter: its CPU device needs clang
    from tinygrad import Device, Tensor

    return Tensor, Device.DEFAULT


def _tinygrad_max_drops_nan():
    Tensor, _ = _tinygrad()
    got = {tuple(v): float(Tensor(np.array([[v]], np.float32)).max_pool2d((2,), 2).numpy().ravel()[0])
           for v in ([1.0, np.nan], [np.nan, 3.0])}
    want = np.max([1.0, np.nan])  # nan, in either order
    return (not all(np.isnan(g) for g in got.values()),
            f"max_pool2d(window 2) of [1, nan] = {got[(1.0, np.nan)]}, of [nan, 3] = {got[(np.nan, 3.0)]}; "
            f"numpy.max of either: {want} (a comparison a > b keeps the first operand when b is NaN)")


def _tvm_max_pool_nan_order():
    got = {tuple(v): _one_node("tvm", "MaxPool", np.array([[v]], np.float32), kernel_shape=[2])[0]
           for v in ([1.0, np.nan], [np.nan, 1.0], [-np.inf, -np.inf])}
    want = {v: np.max(np.array(v)) for v in got}  # nan, nan, -inf
    wrong = [v for v in got if not (got[v] == want[v] or (np.isnan(got[v]) and np.isnan(want[v])))]
    return (bool(wrong), "; ".join(f"MaxPool(window 2) of [{', '.join(map(str, v))}] = {got[v]} (numpy.max: "
                                   f"{want[v]})" for v in got) + ": NaN is kept or dropped by its place in the window, "
                                                                 "and each window starts at the lowest finite float32")


def _tvm_lp_pool_ceil():
    got = _one_node("tvm", "LpPool", np.array([[[3.0, 4.0, 5.0]]], np.float32), kernel_shape=[2], strides=[2], p=2,
                    ceil_mode=1)
    want = np.array([np.hypot(3.0, 4.0), np.sqrt(5.0 ** 2)])  # the overhanging window holds 5 alone
    return (not np.allclose(got, want), f"LpPool([3, 4, 5], p=2, kernel 2, stride 2, ceil_mode=1) = "
                                        f"{[round(float(v), 4) for v in got]}; (3² + 4²)^½ = 5 and (5²)^½ = 5: the "
                                        "overhanging window is scaled by window / elements in it")


def _keras():
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    return keras.ops, keras.backend.backend()


def _keras_channels_first_float64():
    ops, backend = _keras()
    x, w = np.full((1, 1, 3), 2.0), np.full((1, 1, 1), 3.0)  # float64, channels first: (N, C, L); kernel (K, C, O)
    try:
        got = ops.convert_to_numpy(ops.conv(x, w, data_format="channels_first")).ravel().tolist()
    except Exception as e:
        got = f"{type(e).__name__}: {str(e).split('}}')[-1].split('[Op')[0].strip()}"
    want = (x[0, 0] * w[0, 0, 0]).tolist()  # a 1-tap kernel: each output is 2 * 3
    return (got != want, f"keras.ops.conv(float64 (1, 1, 3) of 2, kernel 3, data_format='channels_first') on the "
                         f"{backend} back end = {got}; 2 * 3 per output: {want} (float32 gives it)")


def _keras_max_pool_lowest_not_minus_inf():
    ops, backend = _keras()
    got = {tuple(v): float(ops.convert_to_numpy(ops.max_pool(np.array([[v]], np.float32), (2,), strides=(2,),
                                                                   data_format="channels_first")).ravel()[0])
           for v in ([1.0, np.nan], [-np.inf, -np.inf])}
    want = {v: float(np.max(np.array(v))) for v in got}  # nan, -inf
    wrong = [v for v in got if not (got[v] == want[v] or (np.isnan(got[v]) and np.isnan(want[v])))]
    return (bool(wrong), f"on the {backend} back end: " + "; ".join(
        f"keras.ops.max_pool(window 2) of [{', '.join(map(str, v))}] = {got[v]} (numpy.max: {want[v]})" for v in got))


def _tinygrad_conv_bad_reshape():
    Tensor, device = _tinygrad()
    try:  # batch 3, length 1 padded (5, 1): 7 positions, taps 0-2-4 and 2-4-6, stride 2: two outputs each
        got = Tensor.ones(3, 1, 1).pad(((0, 0), (0, 0), (5, 1))).conv2d(Tensor.ones(1, 1, 3), stride=(2,),
                                                                      dilation=(2,)).numpy()
    except Exception as e:  # noqa: BLE001 -- the crash is the deviation
        got = e
    padded = np.pad(np.ones((3, 1, 1)), ((0, 0), (0, 0), (5, 1)))
    want = np.array([[[padded[n, 0, 2 * o:2 * o + 5:2].sum() for o in range(2)]] for n in range(3)])
    return (isinstance(got, Exception) or not np.array_equal(got, want),
            f"Tensor.ones(3, 1, 1).pad(5, 1).conv2d(ones(1, 1, 3), stride 2, dilation 2) on {device}: "
            f"{got!r}; the sums (float64): {want.ravel().tolist()} (the taps never reach the input)")


def _tinygrad_conv_wrong_after_taller_input():
    Tensor, device = _tinygrad()

    def tinygrad(x, w):  # the adapter's call: padding added by Tensor.pad, then conv2d
        return Tensor(x).pad(((0, 0), (0, 0), (2, 0), (4, 1))).conv2d(Tensor(w), groups=3, stride=(3, 2),
                                                                      dilation=(2, 3)).numpy()

    def sums(x, w):  # float64: out[o, i, j] = sum of padded[group of o, 3i + 2a, 2j + 3b] * w[o, :, a, b]
        xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (2, 0), (4, 1)))
        out = np.zeros((1, 18, (xp.shape[2] - 3) // 3 + 1, (xp.shape[3] - 4) // 2 + 1))
        for o, i, j, a, b in np.ndindex(18, out.shape[2], out.shape[3], 2, 2):
            out[0, o, i, j] += xp[0, (o // 6) * 6:(o // 6) * 6 + 6, 3 * i + 2 * a, 2 * j + 3 * b] @ w[o, :, a, b]
        return out

    rng = np.random.default_rng(0)
    x, w, w2 = (rng.integers(-4, 5, size=s).astype(np.float32) for s in ((1, 18, 2, 1), (18, 6, 2, 2), (18, 6, 2, 2)))
    tinygrad(x, w)
    short = np.ascontiguousarray(x[:, :, :1])
    got, want = tinygrad(short, w2), sums(short, w2)
    return (not np.array_equal(got, want),
            f"on {device}, conv2d (groups 3, stride (3, 2), dilation (2, 3), padding (2, 0), (4, 1)) of an 18-channel "
            f"1 x 1 input, called after the same layer on a 2 x 1 input: largest |output| {np.abs(got).max()}, "
            f"{int(np.sum(got != want))} of {got.size} outputs wrong; the float64 sums are all {np.abs(want).max()} "
            "(every tap lands in the padding)")


def _tinygrad_stale_after_dtype_change():
    Tensor, device = _tinygrad()

    def grad_input(gy, w, shape, stride, padding):
        x = Tensor(np.zeros(shape, gy.dtype))
        y = x.pad(((0, 0), (0, 0)) + padding).conv2d(Tensor(w), stride=stride)
        return y.gradient(x, gradient=Tensor(gy))[0].numpy()

    grad_input(np.array([[[[1.0], [6.0]]]], np.float32), np.array([[[[4.0], [5.0]]]], np.float32),
               (1, 1, 2, 1), (1, 2), ((1, 0), (0, 0)))
    got = grad_input(np.zeros((1, 1, 1, 1, 1)), np.array([[[[[-28.0, -32.0]]]]]), (1, 1, 1, 1, 1), (1, 1, 2),
                     ((0, 0), (0, 0), (2, 0)))
    want = 0.0 * -28.0 + 0.0 * -32.0  # the upstream gradient is zero: every input gradient is a sum of 0 * w
    return (float(got.ravel()[0]) != want,
            f"on {device}, after a float32 conv gradient, the float64 input gradient for a zero upstream gradient "
            f"= {got.ravel().tolist()}; it is a sum of zeros: {want} (tinygrad's PYTHON device answers 0)")


def _subnormal_expected(message: str) -> bool:
    """Whether a failure message's expected value is a float32 subnormal (0 < |v| < 1.18e-38)."""
    import re

    found = re.search(r"but should be (-?[0-9.]+(?:e[-+]?\d+)?)", message)
    return bool(found) and 0 < abs(float(found.group(1))) < float(np.finfo(np.float32).tiny)


DEVIATIONS = [
    Deviation("torch", ("lp_pool_accuracy", "lp_pool_large"),
              "lp_pool raises |x|^p in the input dtype: float32 overflows where the norm does not", _torch_lp_pool_overflow,
              kind="overflow"),
    Deviation("torch", ("conv_low_precision_*", "conv_grad_*_low_precision_*"),
              "bfloat16 conv2d wrong on CPUs with AMX (oneDNN's AMX bfloat16 kernels): exactly representable data, "
              "a wrong sum; the same call exact on CPUs without AMX", _torch_bf16_conv_on_this_cpu, says="bfloat16",
              cpu=("amx_bf16",), kind="wrong sums"),
    Deviation("torch", ("lp_pool_*",), "lp_pool in ceil mode scales an overhanging window's sum by window / "
              "elements (PyTorch computes it as an average times the window size)", _torch_lp_pool_ceil,
              kind="padding"),
    Deviation("onnxruntime", ("avg_pool_padding_only_window", "avg_pool_definition", "avg_pool_*"),
              "AveragePool (count_include_pad=0) over a window of padding only gives 0, not 0 / 0 = NaN",
              lambda: _avg_pool_padding_only("ort"), says="0.0, but should be nan", kind="padding"),
    Deviation("onnxruntime", ("max_pool_propagates_nan", "max_pool_special_values", "max_pool_padding_only_window"),
              "MaxPool starts each window at the lowest finite value instead of -inf and skips NaN: an all-NaN or "
              "all--inf window gives -3.4e38 in float32", _ort_max_pool_lowest_not_minus_inf, kind="NaN"),
    Deviation("openvino", ("lp_pool_accuracy", "lp_pool_large", "lp_pool_definition"),
              "LpPool raises |x|^p in float32: it overflows where the norm does not",
              lambda: _lp_pool_overflow("openvino"), says=r"=-?inf", kind="overflow"),
    Deviation("paddle", ("max_pool_propagates_nan", "max_pool_special_values", "adaptive_max_pool_special_values",
                         "adaptive_max_pool_*", "max_pool_padding_only_window"),
              "max pooling starts each window at the lowest finite value instead of -inf and skips a NaN met first: "
              "an all--inf window gives -3.4e38 in float32", _paddle_max_lowest_not_minus_inf, kind="NaN"),
    Deviation("paddle", ("lp_pool_accuracy", "lp_pool_large", "lp_pool_definition"),
              "lp_pool raises |x|^p in float32: it overflows where the norm does not", _paddle_lp_pool_overflow,
              says=r"=-?inf", kind="overflow"),
    Deviation("openvino", ("max_pool_propagates_nan", "max_pool_special_values", "max_pool_padding_only_window"),
              "MaxPool starts each window at the lowest finite value instead of -inf and skips NaN: an all--inf or "
              "padding-only window gives -3.4e38 in float32, a window holding NaN its largest other value",
              _openvino_max_pool_lowest_not_minus_inf, kind="NaN"),
    Deviation("onnxruntime", ("lp_pool_accuracy", "lp_pool_large"),
              "LpPool raises |x|^p in float32: it overflows where the norm does not", lambda: _lp_pool_overflow("ort"),
              kind="overflow"),
    Deviation("onnx-reference", ("max_pool_*", "pool_*"), "MaxPool with pads: 1-D output one short for end padding "
              "(silently), IndexError (or 'output shape cannot be null') for 1-D begin padding and for 3-D padding",
              _ref_max_pool_padding_ignored, says=r"output shape cannot be null|out of bounds|\.shape=",
              kind="padding"),
    Deviation("onnx-reference", ("max_pool_padding_only_window", "max_pool_*"),
              "MaxPool over a window of padding only gives NaN (1-D) or 0 (2-D), not -inf", _ref_max_pool_padding_only,
              says="padding only", kind="padding"),
    Deviation("onnx-reference", ("*_pool_special_values", "max_pool_propagates_nan"),
              "AveragePool, LpPool and MaxPool skip NaN (a window holding NaN gives a finite value; an all-NaN MaxPool "
              "window raises ValueError)", _ref_pools_skip_nan, says="NaN|nan|zero-size array", kind="NaN"),
    Deviation("onnx-reference", ("conv_grad_input_*", "conv_gradient_adjoint"), "ConvTranspose with group > 1 raises "
              "'cannot reshape array' for valid grouped layers, or indexes the bias B within each group (B[0] on "
              "the first channel of every group)", _ref_grouped_conv_transpose, says=r"cannot reshape|bias",
              kind="crash"),
    Deviation("onnx-reference", ("lp_pool_accuracy", "lp_pool_large"),
              "LpPool raises |x|^p in float32: it overflows where the norm does not",
              lambda: _lp_pool_overflow("reference"),
              says=r"=-?inf", kind="overflow"),
    Deviation("onnx-reference", ("avg_pool_*", "lp_pool_*"), "AveragePool and LpPool in ceil mode with dilations "
              "read a wrong element into a window that overhangs the input", _ref_pools_ceil_dilated,
              says=r"but should be -?\d", kind="padding"),
    Deviation("onnx-reference", ("max_pool_*", "pool_*"), "2-D MaxPool of int8 raises 'cannot convert float "
              "NaN to integer' (it pads with NaN); of uint8 with pads it returns more outputs than windows",
              _ref_max_pool_integer, says=r"NaN to integer|\.shape=", kind="crash"),
    Deviation("onnx-reference", ("conv_integer_*", "conv_dtype_preservation", "conv_input_immutability",
                                 "conv_memory_layout", "conv_determinism", "conv_output_ownership",
                                 "conv_worker_threads", "conv_sustained_calls"),
              "ConvInteger raises for a per-channel w_zero_point (one per "
              "output channel, as ONNX allows) in 1-D and 3-D layers: its broadcast assumes 2-D kernels",
              _ref_conv_integer_not_2d, says="broadcast", kind="crash"),
    Deviation("onnx-reference", ("conv_qlinear_*",), "QLinearConv broadcasts a per-channel w_scale as (1, C, 1, 1), "
              "right for 2-D layers only: a 1-D layer gets an output of the wrong shape, a 3-D one the scales applied "
              "along its depth", _ref_qlinear_conv_per_channel_not_2d, says=r"\.shape=|requantize=", kind="wrong sums"),
    Deviation("tensorflow", ("conv_grad_*", "conv_gradient_adjoint"), "GradientTape through tf.nn.convolution on "
              "3-D layers raises AttributeError in the Conv3D gradient (op.get_attr('data_format') is None); the same "
              "layer through tf.nn.conv3d differentiates", _tf_conv3d_gradient_raises, says="decode", kind="crash"),
    Deviation("tensorflow", ("max_pool_propagates_nan", "max_pool_special_values", "max_pool_padding_only_window"),
              "max pooling starts each window at the lowest finite value instead of -inf and drops NaN: an all--inf "
              "window gives -3.4e38 in float32, a window holding NaN its largest other value",
              _tf_max_pool_lowest_not_minus_inf, kind="NaN"),
    Deviation("litert", ("conv_special_values",), "XNNPACK's convolution clamps its results to the finite float32 "
              "range: an infinite sum comes back as -3.4e38 or 3.4e38", _litert_conv_clamps_infinities,
              says="is finite", kind="infinity"),
    Deviation("litert", ("max_pool_propagates_nan", "max_pool_special_values"),
              "MAX_POOL_2D does not propagate NaN: a window holding NaN gives another value",
              _litert_max_pool_drops_nan, kind="NaN"),
    Deviation("tinygrad", ("max_pool_special_values", "max_pool_propagates_nan"),
              "max_pool2d drops NaN depending on order: max(1, NaN) = 1, max(NaN, 3) = NaN", _tinygrad_max_drops_nan,
              kind="NaN"),
    Deviation("tinygrad", ("conv*",), "conv2d raises 'bad reshape' for valid layers whose padded taps miss a "
              "short input (batch 3, length 1, padding (5, 1), stride 2, dilation 2)", _tinygrad_conv_bad_reshape,
              says="bad reshape", kind="crash"),
    Deviation("tinygrad", ("conv*",), "on the CPU device, a grouped, dilated conv2d whose taps all land in the padding "
              "returns nonzero values when the same layer ran before on a taller input",
              _tinygrad_conv_wrong_after_taller_input, says="but should be 0.0", kind="wrong sums"),
    Deviation("tinygrad", ("conv*",), "on the CPU device, a float64 conv gradient computed after a float32 one "
              "can return another computation's values (8192.0019 where the answer is 0)",
              _tinygrad_stale_after_dtype_change, says="earlier calls", kind="wrong sums"),
    Deviation("tvm", ("max_pool_propagates_nan", "max_pool_special_values", "max_pool_padding_only_window"),
              "MaxPool keeps or drops NaN by its place in the window (max(1, NaN) = NaN, max(NaN, 1) = 1) and starts "
              "each window at the lowest finite value: an all--inf or padding-only window gives -3.4e38 in float32",
              _tvm_max_pool_nan_order, kind="NaN"),
    Deviation("tvm", ("avg_pool_padding_only_window", "avg_pool_*"),
              "AveragePool (count_include_pad=0) over a window of padding only gives 0, not 0 / 0 = NaN",
              lambda: _avg_pool_padding_only("tvm"), says="0.0, but should be nan", kind="padding"),
    Deviation("tvm", ("lp_pool_accuracy", "lp_pool_large", "lp_pool_definition"),
              "LpPool raises |x|^p in float32: it overflows where the norm does not", lambda: _lp_pool_overflow("tvm"),
              says=r"=-?inf", kind="overflow"),
    Deviation("tvm", ("lp_pool_*",), "LpPool in ceil mode scales an overhanging window's sum by window / elements "
              "(an average times the window size)", _tvm_lp_pool_ceil, says=r"but should be -?\d", kind="padding"),
    Deviation("keras", ("*",), "keras.ops.conv with data_format='channels_first' "
              "raises UnimplementedError in float64 on TensorFlow's CPU ('Conv2D only supports NHWC'): Keras passes "
              "the format through instead of transposing", _keras_channels_first_float64, says="NHWC", kind="crash"),
    Deviation("keras", ("max_pool_propagates_nan", "max_pool_special_values", "max_pool_padding_only_window"),
              "keras.ops.max_pool starts each window at the lowest finite value instead of -inf and drops NaN "
              "(TensorFlow's kernel underneath)", _keras_max_pool_lowest_not_minus_inf, kind="NaN"),
    Deviation("scipy", ("correlate_special_values", "convolve_special_values"),
              "correlate/convolve(method='direct') swap the inputs when the kernel is larger on an axis and multiply "
              "padding zeros: a NaN reaches outputs whose sum does not hold it", _scipy_direct_nan_through_padding,
              kind="NaN"),
]

#: Documented behaviours that fail properties but are the library's stated semantics, not bugs:
#: attributed like deviations, with the same kind of confirmation, and listed as conventions.
DOCUMENTED = [
    Deviation("jax", ("*_accuracy", "*_large", "*_definition"),
              "XLA on CPU flushes subnormal inputs and results to zero (documented by JAX)", _jax_flushes_subnormals,
              when=_subnormal_expected, kind="subnormals"),
    Deviation("tensorflow", ("*_accuracy", "*_large", "*_definition"),
              "TensorFlow flushes subnormal results to zero on CPU (intended: its own denormal_test asserts it)",
              _tf_flushes_subnormals, when=_subnormal_expected, kind="subnormals"),
    Deviation("keras", ("*_accuracy", "*_large", "*_definition"),
              "Keras on TensorFlow flushes subnormal results to zero on CPU (TensorFlow's intended behaviour)",
              _tf_flushes_subnormals, when=_subnormal_expected, kind="subnormals"),
    Deviation("astropy-fft", ("*_special_values",), "convolve_fft treats inf as NaN and fills both with fill_value "
              "before the transform (documented: 'inf values are treated as NaN')", _astropy_fft_inf_as_nan,
              when=lambda message: "is finite" in message and "should be" in message and "inf" in message,
              kind="infinity"),
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
                    "restrictions integer_p, shared_bias_only, no_count_padding_in_ceil_mode, "
                    "per_tensor_zero_points (ConvInteger's CPU kernel: 'Non per-tensor quantization is not supported')",
                    "integer conv is ConvInteger (zero points as inputs of the tensors' dtypes, int32 out); "
                    "MaxPool takes int8/uint8",
                    "conv_grad_input is ConvTranspose with output_padding for the rows the forward stride skipped"],
    "onnx-reference": ["the same one-node models and translations as onnxruntime, in both dtypes"],
    "keras": ["keras.ops with data_format='channels_first' on Keras's configured back end (KERAS_BACKEND)",
              "kernels as (*K, C_in / groups, C_out)", "padding added with keras.ops.pad (-inf for the max, zeros "
              "for sums) and the ops run 'valid'", "the average is window sums over the count of the elements "
              "that count"],
    "mlx": ["channels last (N, *S, C) and kernels (C_out, *K, C_in / groups)", "float32 only: mlx.core.array "
            "turns float64 into float32", "the pools on input padded with mlx.core.pad; the average is window sums "
            "over the count of the elements that count", "gradients by mlx.core.vjp"],
    "tvm": ["the one-node ONNX models of the onnxruntime adapter, imported by TVM's Relax ONNX front end, compiled "
            "by tvm.compile for the llvm target and run by the Relax virtual machine", "one virtual machine per "
            "thread", "weights are model inputs, not constants"],
    "litert": ["each call is a model converted from the tensorflow adapter's tf.nn graph, weights as an input",
               "channels last, padding as PAD/PADV2, the ceil-mode overhang as end padding",
               "declared: float32, 1-D and 2-D, no_stride_with_dilation, stride_within_window, shared_bias_only",
               "one interpreter per thread, as LiteRT asks"],
    "tensorflow": ["channels last on CPU: arrays and kernels are transposed", "explicit padding through tf.pad; the "
                   "average is window sums over the count of elements that count", "3-D grouped layers (which the CPU "
                   "Conv3D kernel rejects) are one tf.nn.convolution per group", "declared: no_stride_with_dilation, "
                   "stride_within_window for the pools", "offered narrower than TensorFlow where its limit depends on "
                   "the dtype: grouped gradients declined as no_groups (float64 has none on CPU, float32 has), the "
                   "pools in float32 only (MaxPool3D/AvgPool3D take no float64)"],
    "tinygrad": ["padding is added with Tensor.pad (-inf for the max, zeros for sums), the ceil-mode overhang as "
                 "extra end padding", "the average is window sums over the count of the elements that count",
                 "the device is tinygrad's choice (DEV): CPU where clang is installed, else its PYTHON "
                 "interpreter", "a 2-D (per-position) bias raises Unsupported: conv2d adds one value per channel"],
    "openvino": ["the one-node ONNX models of the onnxruntime adapter, read by OpenVINO's ONNX front end and "
                 "compiled for CPU", "INFERENCE_PRECISION_HINT f32: the CPU plugin's default is bfloat16 on CPUs with "
                 "bfloat16 units", "weights are model inputs, not constants", "float32 only (float64 is computed in "
                 "float32 by the CPU plugin)",
                 "one infer request per thread (OpenVINO's rule for concurrent inference)"],
    "paddle": ["padding is Paddle's list of (before, after) pairs for the layers; the pools pad with NumPy (-inf for "
               "the max, zeros for sums) and pool without padding", "the average is window sums over the count of "
               "the elements that count", "lp_pool is lp_pool1d/2d on |x| (Paddle documents (sum x^p)^(1/p)), "
               "float32, 1-D and 2-D only", "gradients by paddle autograd (backward of the layer)"],
    "opencv": ["filter2D correlates: the input is zero-padded with NumPy and the anchor is the kernel's first tap; "
               "convolution flips the kernel (cv2.flip), as OpenCV documents", "1-D signals are one-row images",
               "declared hybrid: the direct bound up to 49 taps, the FFT bound above (filter2D switches to a DFT for "
               "large kernels)"],
    "astropy": ["normalize_kernel=False, boundary='fill' with 0", "odd kernels only (declared odd_kernels)",
                "NaN inputs are filled by astropy: windows holding NaN are set to NaN", "full is same on the input "
                "zero-padded by (k - 1) / 2; correlation flips the kernel"],
    "astropy-fft": ["the astropy translation around convolve_fft"],
    "scipy": ["the layer (conv) is assembled from single-channel scipy.signal.correlate calls"],
    "scipy-ndimage": ["maximum_filter skips NaN (documented for ndimage filters' comparisons): the adapter marks "
                      "windows holding NaN", "filters centre windows at k // 2: the adapter shifts the origin"],
}


def confirm_apart(deviations: list) -> dict:
    """``{(adapter, what): (still there, evidence)}`` for ``deviations``, each adapter's confirmations in a
    process of their own, as the judges run adapters: some libraries crash one another when
    loaded together (TensorFlow and LiteRT, then PaddlePaddle).  A confirmation whose process
    dies confirms nothing, and says how it died."""
    import json
    import subprocess
    import sys

    every = DEVIATIONS + DOCUMENTED
    found = {}
    for adapter in dict.fromkeys(d.adapter for d in deviations):
        mine = [every.index(d) for d in deviations if d.adapter == adapter]
        code = ("import json, sys; from convspec._adapters.deviations import DEVIATIONS, DOCUMENTED; "
                "every = DEVIATIONS + DOCUMENTED; "
                f"print(json.dumps([list(every[i].confirm()) for i in {mine!r}]))")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900)
        try:
            answers = json.loads(done.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            why = f"exit status {done.returncode}" + (f": {done.stderr.strip().splitlines()[-1][:200]}"
                                                       if done.stderr.strip() else "")
            answers = [[False, f"the confirmation's process ended without an answer ({why})"]] * len(mine)
        for i, (present, evidence) in zip(mine, answers):
            found[every[i].adapter, every[i].what] = (bool(present), str(evidence))
    return found


def explain(adapter: str, prop: str, message: str = "") -> Deviation | None:
    """The deviation, or documented behaviour, a failure is attributed to (``None``: unexplained).
    A documented subnormal flush explains only a failure whose expected value is subnormal."""
    for d in DOCUMENTED:
        if d.explains(adapter, prop, message) and (d.when is None or d.when(message)):
            return d
    return next((d for d in DEVIATIONS if d.explains(adapter, prop, message)), None)
