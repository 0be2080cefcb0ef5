"""Performance peers that are not shipped adapters: each library's own entry points, called as
its users call them (the ``scipy`` adapter uses the direct method, which checks definitions,
not speed): SciPy's ``convolve`` with ``method='auto'``, ``'direct'`` and ``'fft'``,
``oaconvolve`` and ``ndimage.convolve``; ``numpy.convolve``; PyTorch natively; ONNX Runtime and
OpenVINO running a layer with constant weights, as a deployed model holds them; JAX's
``lax.conv_general_dilated`` and ``lax.reduce_window`` under ``jit``.

Threads: the runtimes get the count of ``OMP_NUM_THREADS`` when it is set (what the benchmark
commands set for every library), their own default otherwise; and a run on fewer threads than
the machine has CPUs holds every thread of its process to that many CPUs
(:func:`convspec._bench.engine.hold_to_cores`), which is what limits JAX."""

from __future__ import annotations

import os

import numpy as np


def threads() -> int:
    """The thread count the benchmark run asks for (``OMP_NUM_THREADS``), 0 when unset."""
    try:
        return max(0, int(os.environ.get("OMP_NUM_THREADS", "0")))
    except ValueError:
        return 0


class _SignalPeer:
    """A library's ``same``-mode signal function as a peer: ``correlate`` by ``convolve`` with
    the kernel reversed and conjugated (every one here convolves)."""

    convspec_capabilities = {"ops": ["correlate", "convolve"], "accuracy": "fft"}

    def __init__(self, convolve_same, ndims=(1, 2, 3), accuracy="fft"):
        self._same = convolve_same
        self.convspec_capabilities = {**self.convspec_capabilities, "ndims": list(ndims), "accuracy": accuracy}

    def convolve(self, x, w, *, mode):
        if mode != "same":
            raise ValueError(f"mode={mode!r}, but this peer is timed in 'same' mode only")
        return self._same(x, w)

    def correlate(self, x, w, *, mode):
        return self.convolve(x, np.conj(w[(slice(None, None, -1),) * w.ndim]), mode=mode)


def _scipy_signal(method):
    def same(x, w):
        import scipy.signal

        if method == "oa":
            return scipy.signal.oaconvolve(x, w, mode="same")
        return scipy.signal.convolve(x, w, mode="same", method=method)
    return same


def _ndimage_same(x, w):
    """``scipy.ndimage.convolve`` centres the kernel at ``k // 2``; ``same`` starts at ``(k - 1) // 2``."""
    import scipy.ndimage

    return scipy.ndimage.convolve(x, w, mode="constant", origin=[(k - 1) // 2 - k // 2 for k in w.shape])


class _Numpy:
    """``numpy.correlate``/``convolve`` (1-D; correlate conjugates the kernel as the contract
    says), every mode cut from ``full`` at ``(k - 1) // 2`` as the contract says."""

    convspec_capabilities = {"ops": ["correlate", "convolve"], "accuracy": "direct", "ndims": [1]}

    @staticmethod
    def _cut(full, m, k, mode):
        start = {"full": 0, "same": (k - 1) // 2, "valid": k - 1}[mode]
        return full[start:start + {"full": m + k - 1, "same": m, "valid": m - k + 1}[mode]]

    @classmethod
    def correlate(cls, x, w, *, mode):
        return cls._cut(np.correlate(x, w, mode="full"), x.size, w.size, mode)

    @classmethod
    def convolve(cls, x, w, *, mode):
        return cls._cut(np.convolve(x, w, mode="full"), x.size, w.size, mode)


class _Torch:
    """PyTorch called natively, as a model would call it: symmetric padding passed to the op
    (not added by a copy), the gradients by autograd of the same layer, pools with PyTorch's
    own padding when the problem has it (window // 2 at most).  For timing only: the shipped
    ``torch`` adapter, which translates every convention, is the one that is checked."""

    convspec_capabilities = {"ops": ["conv", "conv_grad_input", "conv_grad_weight", "max_pool", "avg_pool",
                                     "adaptive_max_pool", "adaptive_avg_pool"]}

    @staticmethod
    def _f(name, nd):
        import torch.nn.functional as F

        return getattr(F, f"{name}{nd}d")

    @staticmethod
    def _t(a):
        from convspec._adapters.torch import _t

        return _t(a)

    @classmethod
    def _conv(cls, x, w, stride, padding, dilation, groups):
        import torch.nn.functional as F

        before = [a for a, _ in padding]
        if any(a != b for a, b in padding):  # asymmetric: PyTorch has no keyword for it
            x = F.pad(x, [v for a, b in reversed(padding) for v in (a, b)])
            before = [0] * len(padding)
        return cls._f("conv", x.ndim - 2)(x, w, stride=tuple(stride), padding=tuple(before), dilation=tuple(dilation),
                                          groups=groups)

    def conv(self, x, w, *, stride, padding, dilation, groups, bias=None):
        import torch

        with torch.no_grad():
            return self._conv(self._t(x), self._t(w), stride, padding, dilation, groups).numpy()

    def _grad(self, gy, x, w, kw, of):
        xt, wt = self._t(x).requires_grad_(of == "x"), self._t(w).requires_grad_(of == "w")
        self._conv(xt, wt, **kw).backward(self._t(gy))
        return (xt if of == "x" else wt).grad.numpy()

    def conv_grad_input(self, gy, w, *, input_shape, stride, padding, dilation, groups):
        kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        return self._grad(gy, np.zeros(input_shape, gy.dtype), w, kw, "x")

    def conv_grad_weight(self, gy, x, *, weight_shape, stride, padding, dilation, groups):
        kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        return self._grad(gy, x, np.zeros(weight_shape, gy.dtype), kw, "w")

    def _pool(self, name, x, window, stride, padding, **kw):
        if any(a != b or a > k // 2 for (a, b), k in zip(padding, window)):
            raise ValueError("the native PyTorch peer takes symmetric padding of at most window // 2")
        return self._f(name, x.ndim - 2)(self._t(x), tuple(window), tuple(stride), tuple(a for a, _ in padding),
                                          **kw).numpy()

    def max_pool(self, x, *, window, stride, padding, ceil_mode=False):
        return self._pool("max_pool", x, window, stride, padding, ceil_mode=ceil_mode)

    def avg_pool(self, x, *, window, stride, padding, ceil_mode=False, count_padding=False):
        return self._pool("avg_pool", x, window, stride, padding, ceil_mode=ceil_mode, count_include_pad=count_padding)

    def adaptive_max_pool(self, x, *, output_size):
        return self._f("adaptive_max_pool", x.ndim - 2)(self._t(x), tuple(output_size)).numpy()

    def adaptive_avg_pool(self, x, *, output_size):
        return self._f("adaptive_avg_pool", x.ndim - 2)(self._t(x), tuple(output_size)).numpy()


class _Deployed:
    """A one-node ONNX model run as a deployed model runs it: ``Conv`` with the weights as
    constants (so the runtime may repack them when it compiles), compiled at the first call for
    that weight array and kept (the engine reports the first call apart); pools as in the
    ONNX adapters.  ``prepare(model)`` gives a function of the feeds."""

    convspec_capabilities = {"ops": ["conv", "max_pool", "avg_pool"], "dtypes": ["float32"]}

    def __init__(self, prepare):
        from convspec._adapters._onnx import OneNode

        self.prepare = prepare
        self.pools = OneNode(prepare)
        self.layers = {}

    def conv(self, x, w, *, stride, padding, dilation, groups, bias=None):
        from convspec._adapters._onnx import conv_attributes, model

        if bias is not None:
            raise ValueError("the deployed-model peers are timed without a bias")
        attrs = conv_attributes(w, stride, padding, dilation, groups)
        key = (x.dtype.str, x.shape, w.shape, repr(sorted(attrs.items())))
        kept = self.layers.get(key)
        if kept is None or kept[0] is not w:  # other weights: another model (the array is kept, so its id is too)
            kept = self.layers[key] = (w, self.prepare(model("Conv", [x], attrs, constants=[w])))
        return kept[1]({"in0": np.ascontiguousarray(x)})

    def max_pool(self, x, *, window, stride, padding, ceil_mode=False):
        return self.pools.max_pool(x, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode)

    def avg_pool(self, x, *, window, stride, padding, ceil_mode=False, count_padding=False):
        return self.pools.avg_pool(x, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                                   count_padding=count_padding)


def _onnxruntime_session(model):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads():
        options.intra_op_num_threads, options.inter_op_num_threads = threads(), 1
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return lambda feeds: session.run(None, feeds)[0]


def _openvino_compiled(model):
    import openvino

    config = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"}  # float32 as float32
    if threads():
        config["INFERENCE_NUM_THREADS"] = threads()
    core = openvino.Core()
    request = core.compile_model(core.read_model(model.SerializeToString()), "CPU", config).create_infer_request()
    return lambda feeds: next(iter(request.infer(feeds).values())).copy()


class _Jax:
    """JAX on CPU, as a model calls it: ``jax.jit`` of ``lax.conv_general_dilated`` (NCHW, OIHW)
    and ``lax.reduce_window``, compiled per shape at the first call; NumPy arrays in and out.
    XLA's CPU client sizes its thread pool by the CPUs the process may run on: its flags
    (``--xla_cpu_multi_thread_eigen=false``) left JAX 0.10 on two cores when one thread was asked
    for, so a run holds the process to its CPUs instead."""

    convspec_capabilities = {"ops": ["conv", "max_pool", "avg_pool"], "dtypes": ["float32"]}

    def __init__(self):
        self.compiled = {}

    @staticmethod
    def _jax():
        import jax

        return jax

    def _fn(self, key, make):
        if key not in self.compiled:
            self.compiled[key] = self._jax().jit(make(self._jax().lax))
        return self.compiled[key]

    def conv(self, x, w, *, stride, padding, dilation, groups, bias=None):
        key = ("conv", tuple(stride), tuple(map(tuple, padding)), tuple(dilation), int(groups))
        f = self._fn(key, lambda lax: lambda a, b: lax.conv_general_dilated(
            a, b, tuple(stride), [tuple(p) for p in padding], rhs_dilation=tuple(dilation),
            feature_group_count=int(groups)))
        return np.asarray(f(x, w))

    def _pool(self, kind, x, window, stride, padding, ceil_mode):
        if ceil_mode:
            raise ValueError("the JAX peer is timed without ceil mode")
        key = (kind, tuple(window), tuple(stride), tuple(map(tuple, padding)))
        dims, steps, pads = (1, 1) + tuple(window), (1, 1) + tuple(stride), ((0, 0), (0, 0)) + tuple(map(tuple, padding))

        def make(lax):
            if kind == "max":
                return lambda a: lax.reduce_window(a, -np.inf, lax.max, dims, steps, pads)
            return lambda a: lax.reduce_window(a, 0.0, lax.add, dims, steps, pads) / lax.reduce_window(
                lax.full_like(a, 1.0), 0.0, lax.add, dims, steps, pads)
        return np.asarray(self._fn(key, make)(x))

    def max_pool(self, x, *, window, stride, padding, ceil_mode=False):
        return self._pool("max", x, window, stride, padding, ceil_mode)

    def avg_pool(self, x, *, window, stride, padding, ceil_mode=False, count_padding=False):
        if count_padding:
            raise ValueError("the JAX peer is timed without count_padding")
        return self._pool("avg", x, window, stride, padding, ceil_mode)


scipy = _SignalPeer(_scipy_signal("auto"))
scipy_direct = _SignalPeer(_scipy_signal("direct"), accuracy="direct")
scipy_fft = _SignalPeer(_scipy_signal("fft"))
scipy_oaconvolve = _SignalPeer(_scipy_signal("oa"))
scipy_ndimage = _SignalPeer(_ndimage_same, accuracy="direct")
numpy = _Numpy()
torch = _Torch()
onnxruntime = _Deployed(_onnxruntime_session)
openvino = _Deployed(_openvino_compiled)
jax = _Jax()
