"""Properties of the gradients of ``conv`` (eq. 9.11-9.13): ``conv_grad_weight`` and
``conv_grad_input`` (the transposed convolution)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from convspec._contract import accuracy, reference
from convspec._contract.functions import conv_output_length, conv_output_shape
from convspec._catalogue.property import prop
from convspec._catalogue.drawing import conv_data, fft_headroom, for_each, grad_data, scaled

LAYER = ("dtype", "ndim")
EQUATION = {"conv_grad_weight": "eq. 9.11", "conv_grad_input": "eq. 9.13"}
CONCEPT = {"conv_grad_weight": "gradient-kernel", "conv_grad_input": "gradient-input"}


def _dot(a, b) -> float:
    return float(np.vdot(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)))


@for_each(*EQUATION)
def _definition(op):
    @prop(f"{op}_definition", op=op, concepts=(CONCEPT[op], "definition"), axes=LAYER,
          statement=f"{op} equals the sum of {EQUATION[op]} (every tap that read an input, or every output a weight touched), exactly on exact data")
    def definition(ctx):
        args, kwargs = grad_data(ctx, op)
        expected = getattr(reference, op)(*args, **kwargs)
        ctx.nondegenerate(expected)
        y = ctx.call(op, *args, **kwargs)
        ctx.expect_equal(y, expected, f"{op}(...)", f"the defining sum, {EQUATION[op]}")

    definition.__doc__ = f"""{op} agrees with its defining sum ({EQUATION[op]}), with stride, padding,
    dilation and groups.  Exact on exact-mode data.
    """


@prop("conv_gradient_adjoint", op="conv_grad_input", concepts=("gradient-input", "gradient-kernel", "matrix-view"), axes=LAYER,
      uses=("conv", "conv_grad_weight"),
      statement="<conv(x, w), g> = <x, conv_grad_input(g, w)> = <w, conv_grad_weight(g, x)>")
def conv_gradient_adjoint(ctx):
    """The gradients are the adjoints of the layer (eq. 9.11-9.13).

    ``L = <conv(x, w), g>`` is bilinear, so ``dL/dx = conv_grad_input(g, w)`` and
    ``dL/dw = conv_grad_weight(g, x)`` satisfy both inner-product identities exactly on exact
    data (the ``check_vjp`` style: no dense Jacobian).
    """
    x, w, kw = conv_data(ctx)
    y = ctx.other("conv", x, w, **kw)
    g = ctx.exact(y.shape)
    gx = ctx.call("conv_grad_input", g, w, input_shape=x.shape, **kw)
    gw = ctx.other("conv_grad_weight", g, x, weight_shape=w.shape, **kw)
    ctx.nondegenerate(gx, gw)
    lhs = _dot(y, g)
    slack = ctx.tolerance() * float(np.abs(g).sum() + np.abs(x).sum() + np.abs(w).sum())
    ctx.expect_within(np.float64(_dot(x, gx)), np.float64(lhs), slack, "<x, conv_grad_input(g, w)>", "<conv(x, w), g>")
    ctx.expect_within(np.float64(_dot(w, gw)), np.float64(lhs), slack, "<w, conv_grad_weight(g, x)>", "<conv(x, w), g>")


@for_each(*EQUATION)
def _accuracy(op):
    @prop(f"{op}_accuracy", op=op, concepts=(CONCEPT[op], "accuracy"), axes=LAYER,
          statement=f"|{op}(...) - exact| <= gamma_n (the same sum of |products|) (direct) or the normwise bound, "
                    "on real-valued data at every magnitude")
    def accuracy_(ctx):
        args, kwargs = grad_data(ctx, op, real=True)
        terms = accuracy.terms_per_output(op, args, kwargs)
        length = accuracy.transform_length(op, args[0].shape, args[1].shape, kwargs)
        args = tuple(scaled(ctx, [a.shape for a in args], terms=terms, headroom=fft_headroom(ctx, length)))
        exact = getattr(reference, op)(*args, acc=np.longdouble, **kwargs)
        y = ctx.call(op, *args, **kwargs)
        cls = ctx.backend.capabilities.accuracy_for(op, args, kwargs)
        bound = accuracy.error_bound(cls, op, args, kwargs, args[0].dtype, ctx.backend.capabilities.arithmetic_for(op))
        ctx.expect_accurate(y, exact, bound, op, args, kwargs, f"{op}(...)",
                            f"the exact gradient within the {cls} error bound for {args[0].dtype}")

    accuracy_.__doc__ = f"""{op} is as accurate as its algorithm class allows, on real-valued data
    ({EQUATION[op]}; docs/explanation/accuracy.md).

    Each output is a sum of ``n`` products (``accuracy.terms_per_output``), so a direct
    backend is within ``gamma_n`` of the same sum of absolute products; a float64 gradient that
    accumulates in float32 misses it by about nine orders of magnitude.  Every magnitude class.
    """


@for_each(*EQUATION)
def _finite_differences(op):
    @prop(f"{op}_finite_differences", op=op, concepts=(CONCEPT[op],), axes=(("dtype", ("float64",)), "ndim"), uses=("conv",),
          statement=f"the central difference of <conv(x, w), g> along a random direction equals <direction, {op}(g, ...)> (float64)")
    def finite_differences(ctx):
        x, w, kw = conv_data(ctx, real=True)
        g = ctx.real(conv_output_shape(x.shape, w.shape, **kw))
        v = ctx.real(x.shape if op == "conv_grad_input" else w.shape)
        h = 1e-3 * max(1.0, float(np.abs(x if op == "conv_grad_input" else w).max())) / max(1.0, float(np.abs(v).max()))

        def loss(t):
            xt, wt = (x + t * v, w) if op == "conv_grad_input" else (x, w + t * v)
            return _dot(ctx.other("conv", xt, wt, **kw), g)

        numeric = (loss(h) - loss(-h)) / (2 * h)
        grad = ctx.call(op, g, w if op == "conv_grad_input" else x,
                        **({"input_shape": x.shape} if op == "conv_grad_input" else {"weight_shape": w.shape}), **kw)
        analytic = _dot(v, grad)
        scale = (np.abs(g).sum() * (np.abs(x).max() + h * np.abs(v).max()) * (np.abs(w).max() + h * np.abs(v).max())
                 * max(1, w[0].size)) / h
        ctx.expect_within(np.float64(analytic), np.float64(numeric), 1e-9 * scale + 1e-12,
                          f"<v, {op}(g, ...)>", "the central difference of <conv(x, w), g>")

    finite_differences.__doc__ = f"""{op} is the derivative of the layer (float64, real-valued data).

    The loss is linear in each argument, so the central difference is exact up to rounding;
    the tolerance is the rounding of the two losses divided by the step.
    """


@prop("conv_grad_input_matrix_view", op="conv_grad_input", concepts=("gradient-input", "matrix-view"), axes=LAYER,
      statement="conv_grad_input(g, w).ravel() = A.T @ g.ravel(): the transposed convolution is the transposed matrix")
def conv_grad_input_matrix_view(ctx):
    """The transposed convolution multiplies by the transpose of the layer's matrix (section 9.5).

    ``A`` is built entry by entry from the definition of ``conv``.  Exact.
    """
    x, w, kw = conv_data(ctx, max_channels=3, max_elements=300)
    a = reference.conv_matrix(x.shape, w, **kw)
    g = ctx.exact(conv_output_shape(x.shape, w.shape, **kw))
    expected = a.T @ g.astype(np.float64).ravel()
    ctx.nondegenerate(expected)
    y = ctx.call("conv_grad_input", g, w, input_shape=x.shape, **kw)
    ctx.expect_equal(y.ravel(), expected, "conv_grad_input(g, w).ravel()", "A.T @ g.ravel()")


@prop("conv_grad_input_ambiguous_sizes", op="conv_grad_input", concepts=("gradient-input", "shape-strided"), axes=LAYER,
      uses=("conv",),
      statement="with stride > 1 every input size mapping to the same output size comes back with the requested shape and satisfies the adjoint identity")
def conv_grad_input_ambiguous_sizes(ctx):
    """The transposed convolution must be told the input size (eq. 9.13, section 9.5).

    With stride ``s`` up to ``s`` input sizes give the same output size; for each of them
    ``conv_grad_input`` returns that shape, and ``<conv(x, w), g> = <x, conv_grad_input(g, w)>``
    holds exactly.  The trailing inputs no window reads get zero gradient.
    """
    x, w, kw = conv_data(ctx, max_stride=4)
    axis = ctx.draw(st.integers(0, x.ndim - 3), label="axis")
    s = kw["stride"][axis]
    if s == 1:
        s = ctx.draw(st.integers(2, 4), label="stride")
        kw = {**kw, "stride": kw["stride"][:axis] + (s,) + kw["stride"][axis + 1:]}
    k, d, (b, a) = w.shape[2 + axis], kw["dilation"][axis], kw["padding"][axis]
    o = conv_output_length(x.shape[2 + axis], k, s, b, a, d)
    g = ctx.exact(conv_output_shape(x.shape, w.shape, **kw))
    ctx.nondegenerate(g)
    for size in range(max(1, d * (k - 1) + 1 - a - b), x.shape[2 + axis] + 2 * s):
        if conv_output_length(size, k, s, b, a, d) != o:
            continue
        shape = x.shape[:2 + axis] + (size,) + x.shape[3 + axis:]
        xs = ctx.exact(shape)
        gx = ctx.call("conv_grad_input", g, w, input_shape=shape, **kw)
        y = ctx.other("conv", xs, w, **kw)
        slack = ctx.tolerance() * float(np.abs(g).sum() + np.abs(xs).sum())
        ctx.expect_within(np.float64(_dot(xs, gx)), np.float64(_dot(y, g)), slack,
                          f"<x, conv_grad_input(g, w, input_shape={shape})>", "<conv(x, w), g> for that input size")


@prop("conv_grad_weight_groups_stride", op="conv_grad_weight", concepts=("gradient-kernel", "grouped-channels"), axes=LAYER,
      statement="conv_grad_weight with groups > 1 and stride > 1 equals the per-group gradients, exactly")
def conv_grad_weight_groups_stride(ctx):
    """Grouped, strided weight gradients: each group's block is its own gradient (eq. 9.11).

    A classic source of wrong weight gradients.  Exact.
    """
    x, w, kw = conv_data(ctx, max_stride=3)
    g_count = ctx.draw(st.integers(2, 3), label="groups")
    x = np.concatenate([x] + [ctx.exact(x.shape) for _ in range(g_count - 1)], axis=1) if kw["groups"] == 1 else x
    w = np.concatenate([w] + [ctx.exact(w.shape) for _ in range(g_count - 1)], axis=0) if kw["groups"] == 1 else w
    groups = kw["groups"] if kw["groups"] > 1 else g_count
    stride = tuple(max(2, s) for s in kw["stride"])
    kw = {**kw, "groups": groups, "stride": stride}
    gy = ctx.exact(conv_output_shape(x.shape, w.shape, **kw))
    dw = ctx.call("conv_grad_weight", gy, x, weight_shape=w.shape, **kw)
    expected = reference.conv_grad_weight(gy, x, weight_shape=w.shape, **kw)
    ctx.nondegenerate(expected)
    ctx.expect_equal(dw, expected, f"conv_grad_weight(gy, x, groups={groups}, stride={stride})", "the per-group sums of eq. 9.11")
