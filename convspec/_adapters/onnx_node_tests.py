"""ONNX's backend node tests for the operators of the contract, as contract calls.

The installed ``onnx`` package generates each test case (the model of one node, its inputs
and the outputs ONNX's own NumPy code computed), so nothing depends on data files the wheel
may no longer ship.  :func:`cases` translates each into ``(op, args, kwargs)`` of the
contract -- ``Conv``, ``ConvInteger`` and ``QLinearConv`` -> ``conv``, ``ConvTranspose`` -> ``conv_grad_input``, ``MaxPool`` /
``AveragePool`` / ``LpPool`` -> the pools, the global pools -> the adaptive pools with
output size 1 -- translating ONNX's conventions only (``pads`` order, ``auto_pad``,
``output_shape``, MaxPool's ``Indices`` over the whole tensor and their ``storage_order``), or
says why a case is not expressible (integer data).  Replay them against any backend with :func:`replay`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from convspec._contract.functions import conv_output_shape

OPERATORS = {"Conv": "conv", "ConvInteger": "conv", "QLinearConv": "conv", "ConvTranspose": "conv_grad_input", "MaxPool": "max_pool", "AveragePool": "avg_pool",
             "LpPool": "lp_pool", "GlobalMaxPool": "adaptive_max_pool", "GlobalAveragePool": "adaptive_avg_pool",
             "GlobalLpPool": None, "MaxUnpool": "max_unpool"}


class NotExpressible(Exception):
    """A node test the contract cannot state (the reason is the message)."""


@dataclass
class NodeCase:
    name: str
    operator: str  # the ONNX op_type
    op: str | None = None  # the contract function (None: not expressible)
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    expected: np.ndarray | None = None
    rtol: float = 1e-3
    atol: float = 1e-7
    why: str = ""  # why it is not expressible

    @property
    def features(self) -> tuple:
        """The optional contract features the call needs (docs/explanation/contract.md)."""
        kw = self.kwargs
        need = ("grad_input_bias",) if self.op == "conv_grad_input" and "bias" in kw else ()
        need += ("max_pool_indices",) if kw.get("return_indices") else ()
        need += ("qlinear",) if self.op == "conv" and "y_scale" in kw else ()
        if "dilation" in kw and self.op.endswith("_pool"):
            need += ("pool_dilation",)
        if self.op and self.op.endswith("_pool") and "window" in kw and \
                any(max(p) > k // 2 for p, k in zip(kw["padding"], kw["window"])):
            need += ("pool_padding_to_window",)
        return need

    def applies_to(self, backend) -> bool:
        """Whether ``backend`` has the function and declares every feature and the dtype the call needs."""
        return self.op in backend.ops and all(backend.capabilities.has_feature(f, self.op) for f in self.features) \
            and np.asarray(self.args[0]).dtype.name in backend.capabilities.dtypes_for(self.op)


def _attributes(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _same_pads(sizes, spans, strides, upper):
    """``auto_pad`` SAME_UPPER / SAME_LOWER: output ``ceil(S / stride)``, the padding split
    with the odd element at the end (UPPER) or the start (LOWER)."""
    out = []
    for s, d, st in zip(sizes, spans, strides):
        total = max((-(-s // st) - 1) * st + d - s, 0)
        small, large = total // 2, total - total // 2
        out.append((small, large) if upper else (large, small))
    return tuple(out)


def _geometry(a, sizes, kernel):
    """``(stride, padding, dilation)`` of a conv or pool node on inputs of spatial ``sizes``."""
    nd = len(sizes)
    strides = tuple(a.get("strides", [1] * nd))
    dilations = tuple(a.get("dilations", [1] * nd))
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilations)]
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        padding = _same_pads(sizes, spans, strides, auto == "SAME_UPPER")
    elif auto == "VALID":
        padding = ((0, 0),) * nd
    else:
        pads = a.get("pads", [0] * 2 * nd)
        padding = tuple((int(pads[i]), int(pads[i + nd])) for i in range(nd))
    return strides, padding, dilations


def translate(node, inputs):
    """``(op, args, kwargs)`` of the contract for one ONNX node on ``inputs``; raises
    :class:`NotExpressible` with the reason otherwise."""
    a = _attributes(node)
    op = OPERATORS.get(node.op_type)
    if op is None:
        raise NotExpressible(f"{node.op_type} has no contract function")
    if len(node.output) > 1 and node.op_type != "MaxPool":
        raise NotExpressible(f"a second output of {node.op_type} is not in the contract")
    from convspec._contract.functions import INTEGER_OPS, dtypes_of

    if np.asarray(inputs[0]).dtype.name not in dtypes_of(op) or any(np.asarray(x).dtype.kind not in "fiu" for x in inputs):
        raise NotExpressible(f"{np.asarray(inputs[0]).dtype} data: the contract's {op} takes "
                             f"{', '.join(dtypes_of(op))}" + ("" if op in INTEGER_OPS else " (no integer data)"))
    x = np.asarray(inputs[0])
    sizes = x.shape[2:]
    if op == "max_unpool":
        # ONNX's indices address the shape pooling came from, (in - 1) stride + kernel - pads;
        # output_shape, when given, only frames it (zeros after): the same positions, re-flattened
        kernel = tuple(a["kernel_shape"])
        stride, padding, _ = _geometry(a, sizes, kernel)
        pooled = tuple((n - 1) * s + k - p0 - p1 for n, s, k, (p0, p1) in zip(sizes, stride, kernel, padding))
        out = tuple(int(v) for v in inputs[2][2:]) if len(inputs) > 2 else pooled
        flat = contract_indices(inputs[1], x.shape[:2] + pooled)
        where = np.ravel_multi_index(np.unravel_index(flat.ravel(), pooled), out).reshape(flat.shape)
        return op, (x, where.astype(np.int64)), {"output_size": out}
    if op.startswith("adaptive"):
        return op, (x,), {"output_size": (1,) * len(sizes)}
    if node.op_type == "QLinearConv":  # x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point[, B]
        x_scale, zx, w, w_scale, zw, y_scale, zy = (np.asarray(v) for v in inputs[1:8])
        stride, padding, dilation = _geometry(a, sizes, w.shape[2:])
        kw = dict(stride=stride, padding=padding, dilation=dilation, groups=int(a.get("group", 1)),
                  x_zero_point=int(zx.item()), w_zero_point=int(zw.item()) if zw.size == 1 else zw.astype(w.dtype),
                  x_scale=float(x_scale.item()),
                  w_scale=float(w_scale.item()) if w_scale.size == 1 else w_scale.astype(np.float32),
                  y_scale=float(y_scale.item()), y_zero_point=zy.reshape(()))
        if len(inputs) > 8:
            kw["bias"] = np.asarray(inputs[8], np.int32)
        return "conv", (x, w), kw
    if op in ("conv", "conv_grad_input"):
        w = np.asarray(inputs[1])
        kernel = w.shape[2:]
        groups = int(a.get("group", 1))
        if op == "conv":
            stride, padding, dilation = _geometry(a, sizes, kernel)
            kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
            if node.op_type == "ConvInteger":  # optional x_zero_point, w_zero_point: 0 when absent
                for name, value in zip(("x_zero_point", "w_zero_point"), inputs[2:]):
                    value = np.asarray(value)
                    kw[name] = int(value) if value.size == 1 else value.astype(w.dtype)
            elif len(inputs) > 2:
                kw["bias"] = np.asarray(inputs[2])
            return "conv", (x, w), kw
        kw = _transposed(a, x, w, groups)
        if len(inputs) > 2:  # ConvTranspose's B: feature grad_input_bias
            kw["bias"] = np.asarray(inputs[2])
        return "conv_grad_input", (x, w), kw
    kernel = tuple(a["kernel_shape"])
    stride, padding, dilation = _geometry(a, sizes, kernel)
    kw = dict(window=kernel, stride=stride, padding=padding, ceil_mode=bool(a.get("ceil_mode", 0)))
    if any(d > 1 for d in dilation):
        kw["dilation"] = dilation
    if op == "avg_pool":
        kw["count_padding"] = bool(a.get("count_include_pad", 0))
    if op == "lp_pool":
        kw = {"p": float(a.get("p", 2)), **kw}
    if len(node.output) > 1:  # MaxPool's Indices: feature max_pool_indices
        kw["return_indices"] = True
    return op, (x,), kw


def contract_indices(indices, x_shape, storage_order=0):
    """ONNX's MaxPool ``Indices`` (flat over the whole tensor, N and C included; column-major
    with ``storage_order=1``) as the contract's (flat over the spatial axes, C order)."""
    where = np.unravel_index(np.asarray(indices, dtype=np.int64).ravel(), x_shape, order="F" if storage_order else "C")
    return np.ravel_multi_index(where[2:], x_shape[2:]).reshape(np.shape(indices)).astype(np.int64)


def _transposed(a, gy, w, groups):
    """``conv_grad_input``'s keywords for ConvTranspose: its output is the forward layer's input."""
    sizes = gy.shape[2:]
    nd = len(sizes)
    strides = tuple(a.get("strides", [1] * nd))
    dilations = tuple(a.get("dilations", [1] * nd))
    spans = [d * (k - 1) + 1 for k, d in zip(w.shape[2:], dilations)]
    extra = list(a.get("output_padding", [0] * nd))
    natural = [s * (n - 1) + e + d for s, n, e, d in zip(strides, sizes, extra, spans)]
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if "pads" in a:
        pads = a["pads"]
        padding = tuple((int(pads[i]), int(pads[i + nd])) for i in range(nd))
        out = [t - p0 - p1 for t, (p0, p1) in zip(natural, padding)]
    else:
        out = list(a.get("output_shape", [n * s for n, s in zip(sizes, strides)] if auto.startswith("SAME") else natural))
        totals = [t - o for t, o in zip(natural, out)]
        if auto.startswith("SAME"):
            padding = tuple((t // 2, t - t // 2) if auto == "SAME_UPPER" else (t - t // 2, t // 2) for t in totals)
        elif all(t <= 0 for t in totals):  # a longer output: zero rows at the end, as output_padding gives
            padding = ((0, 0),) * nd
        else:
            raise NotExpressible("an output_shape shorter than the transposed convolution without pads")
    input_shape = (gy.shape[0], w.shape[1] * groups) + tuple(out)
    kw = dict(input_shape=input_shape, stride=strides, padding=padding, dilation=dilations, groups=groups)
    if any(p < 0 for pair in padding for p in pair) or \
            conv_output_shape(input_shape, w.shape[:1] + (w.shape[1],) + w.shape[2:], stride=strides, padding=padding,
                              dilation=dilations, groups=groups)[2:] != gy.shape[2:]:
        raise NotExpressible(f"ConvTranspose to {tuple(out)} is not the gradient of a layer the contract states")
    return kw


def cases() -> list[NodeCase]:
    """Every node test of ONNX's backend suite whose operator is one of :data:`OPERATORS`."""
    from onnx.backend.test.case import node as node_cases

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        collected = node_cases.collect_testcases(None)
    out = []
    for c in collected:
        nodes = c.model.graph.node
        if len(nodes) != 1 or nodes[0].op_type not in OPERATORS:
            continue
        inputs, outputs = c.data_sets[0]
        case = NodeCase(c.name, nodes[0].op_type, rtol=c.rtol, atol=c.atol)
        try:
            case.op, case.args, case.kwargs = translate(nodes[0], inputs)
            case.expected = np.asarray(outputs[0])
            if case.kwargs.get("return_indices"):
                order = _attributes(nodes[0]).get("storage_order", 0)
                case.expected = (case.expected, contract_indices(outputs[1], np.shape(inputs[0]), order))
        except NotExpressible as e:
            case.why = str(e)
        out.append(case)
    return out


def replay(backend, case: NodeCase) -> str | None:
    """``None`` if ``backend`` gives ONNX's expected output for ``case`` (within the case's
    own ``rtol``/``atol``), else what differs."""
    fn = getattr(backend, case.op)
    got = fn(*case.args, **case.kwargs)
    if isinstance(case.expected, tuple):  # (y, indices)
        if not (isinstance(got, tuple) and len(got) == 2):
            return f"{case.name}: {case.op}(..., return_indices=True) returned {type(got).__name__}, not (y, indices)"
        if not np.array_equal(np.asarray(got[1]), case.expected[1]):
            return f"{case.name}: indices {np.asarray(got[1]).ravel()[:8]}, but ONNX's are {case.expected[1].ravel()[:8]}"
        return replay(backend, NodeCase(case.name, case.operator, case.op, case.args,
                                        {k: v for k, v in case.kwargs.items() if k != "return_indices"},
                                        case.expected[0], case.rtol, case.atol))
    y = np.asarray(got)
    if y.shape != case.expected.shape:
        return f"{case.name}: {case.op}(...).shape={y.shape}, but ONNX expects {case.expected.shape}"
    if not np.allclose(y, case.expected, rtol=case.rtol, atol=case.atol, equal_nan=True):
        i = np.unravel_index(np.argmax(np.abs(y - case.expected)), y.shape)
        return f"{case.name}: {case.op}(...)[{', '.join(map(str, i))}]={y[i]}, but ONNX expects {case.expected[i]}"
    return None
