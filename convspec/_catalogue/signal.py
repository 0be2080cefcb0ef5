"""Properties of the signal-level functions ``correlate`` and ``convolve`` (docs: the contract, the catalogue).

Most identities hold for both functions and are written once, then registered per function
as ``correlate_<name>`` and ``convolve_<name>``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from convspec._contract import accuracy, reference
from convspec._contract.functions import COMPLEX_DTYPES, same_offset
from convspec._catalogue.property import prop
from convspec._catalogue.drawing import fft_headroom, flip, for_each, pad_axis, scaled, signal_data, signal_shapes, take

EQUATION = {"correlate": "eq. 9.6", "convolve": "eq. 9.4"}
OTHER = {"correlate": "convolve", "convolve": "correlate"}
SUM = {"correlate": "sum_j x[i + j] w[j]", "convolve": "sum_j x[i - j] w[j]"}


@for_each("correlate", "convolve")
def _definition(op):
    @prop(f"{op}_definition", op=op, concepts=("definition", "dimensions"), axes=("dtype", "ndim", "mode"),
          statement=f"{op}(x, w, mode) = {SUM[op]} ({EQUATION[op]}) over the mode's index range, exactly on exact data")
    def definition(ctx):
        x, w = signal_data(ctx)
        mode = ctx.axis("mode")
        expected = getattr(reference, op)(x, w, mode=mode)
        ctx.nondegenerate(expected)
        y = ctx.call(op, x, w, mode=mode)
        ctx.expect_equal(y, expected, f"{op}(x, w, mode={mode!r})", f"the defining sum, {EQUATION[op]}")

    definition.__doc__ = f"""{op} agrees with its defining sum ({EQUATION[op]}).

    Anchor: with exact-mode data every partial sum is representable, so a direct backend
    must match bit for bit (an FFT backend within its normwise bound).  Holds for every
    mode, 1-D to 3-D; ``same`` is the slice of ``full`` starting at ``(k - 1) // 2``.
    """


@for_each("correlate", "convolve")
def _accuracy(op):
    @prop(f"{op}_accuracy", op=op, concepts=("definition", "accuracy"), axes=("dtype", "ndim", "mode"),
          statement=f"|{op}(x, w) - exact| <= gamma_n (|x| * |w|) elementwise (direct) or the normwise FFT bound, on real-valued data")
    def accuracy_(ctx):
        x_shape, w_shape = signal_shapes(ctx)
        length = int(np.prod([m + k - 1 for m, k in zip(x_shape, w_shape)]))
        x, w = scaled(ctx, [x_shape, w_shape], terms=int(np.prod(w_shape)), headroom=fft_headroom(ctx, length))
        mode = ctx.axis("mode")
        exact = getattr(reference, op)(x, w, mode=mode, acc=np.longdouble)
        y = ctx.call(op, x, w, mode=mode)
        cls = ctx.backend.capabilities.accuracy_for(op, (x, w), {"mode": mode})
        bound = accuracy.error_bound(cls, op, (x, w), {"mode": mode}, x.dtype, ctx.backend.capabilities.arithmetic_for(op))
        ctx.expect_accurate(y, exact, bound, op, (x, w), {"mode": mode}, f"{op}(x, w, mode={mode!r})",
                            f"the exact result within the {cls} error bound for {x.dtype}")

    accuracy_.__doc__ = f"""{op} is as accurate as its algorithm class allows (docs/explanation/accuracy.md).

    Direct summation of n = prod(k) products: ``|y_hat - y| <= gamma_n (|x| * |w|)`` with
    ``gamma_n = n u / (1 - n u)``; FFT class: ``<= C u log2(L) (||x||_2 ||w||_1 + ||x||_1 ||w||_2)``.
    The exact result is the reference in long double.  A float64 function that computes in
    float32 misses the bound by about nine orders of magnitude.  Values come at every
    magnitude class (ordinary, near overflow, near underflow, mixed; see ``common.scaled``).
    """


@for_each("correlate", "convolve")
def _impulse_response(op):
    @prop(f"{op}_impulse_response", op=op, concepts=("definition",), axes=("dtype", "ndim"),
          statement=f"{op}(delta_p, w, 'full') is w{' reversed' if op == 'correlate' else ''} placed at p: "
                    f"the anchor that tells convolution from correlation")
    def impulse(ctx):
        ndim = ctx.axis("ndim")
        _, w_shape = signal_shapes(ctx, mode="full")
        w = ctx.exact(w_shape)
        ctx.nondegenerate(w)
        x_shape = ctx.draw(st.tuples(*(st.integers(1, 9) for _ in range(ndim))), label="x_shape")
        p = ctx.draw(st.tuples(*(st.integers(0, m - 1) for m in x_shape)), label="impulse_at")
        x = np.zeros(x_shape, dtype=ctx.dtype)
        x[p] = 1
        expected = np.zeros(tuple(m + k - 1 for m, k in zip(x_shape, w_shape)))
        # convolution copies the kernel to p; correlation copies it reversed, ending at p + k - 1
        expected[tuple(slice(q, q + k) for q, k in zip(p, w_shape))] = w if op == "convolve" else flip(w)
        y = ctx.call(op, x, w, mode="full")
        ctx.expect_equal(y, expected, f"{op}(delta at {p}, w, mode='full')", "the impulse response")

    impulse.__doc__ = f"""The impulse response of {op} is the kernel, {'reversed' if op == 'correlate' else 'as is'}.

    ``convolve(delta_p, w, 'full') = w`` shifted to start at ``p``; ``correlate`` gives
    ``w`` reversed.  Relational properties cannot tell the two apart; this can.  Exact.
    """


@for_each("correlate", "convolve")
def _matrix_view(op):
    @prop(f"{op}_matrix_view", op=op, concepts=("matrix-view",), axes=("dtype", "ndim", "mode"),
          statement=f"{op}(x, w, mode).ravel() = A @ x.ravel() with A the Toeplitz matrix of tied kernel entries")
    def matrix_view(ctx):
        mode = ctx.axis("mode")
        x, w = signal_data(ctx, max_size=10 if ctx.axis("ndim") == 3 else 20)
        kernel = w if op == "correlate" else flip(w)
        a = reference.signal_matrix(x.shape, kernel, mode)
        expected = (a @ x.astype(np.float64).ravel())
        ctx.nondegenerate(expected)
        y = ctx.call(op, x, w, mode=mode)
        ctx.expect_equal(y.ravel(), expected, f"{op}(x, w, mode={mode!r}).ravel()", "A @ x, A built from w entry by entry")

    matrix_view.__doc__ = f"""{op} is multiplication by a (block) Toeplitz matrix (section 9.1).

    Row ``i`` of ``A`` holds the kernel entries at the columns its window covers, the same
    few values tied along every diagonal.  ``A`` is built entry by entry from the definition,
    independently of any backend.  Exact.
    """


@for_each("correlate", "convolve")
def _adjoint(op):
    other = OTHER[op]

    @prop(f"{op}_adjoint", op=op, concepts=("matrix-view", "linearity"), axes=("dtype", "ndim"), uses=(other,),
          statement=f"<{op}(x, w, 'valid'), g> = <x, {other}(g, w, 'full')>: the transpose of valid {op} is full {other}")
    def adjoint(ctx):
        x, w = signal_data(ctx, mode="valid")
        y = ctx.call(op, x, w, mode="valid")
        g = ctx.exact(y.shape)
        back = ctx.other(other, g, w, mode="full")
        ctx.nondegenerate(back)
        lhs = np.vdot(y.astype(np.float64), g.astype(np.float64))
        rhs = np.vdot(x.astype(np.float64), back.astype(np.float64))
        slack = ctx.tolerance() * (np.abs(g).sum() + np.abs(x).sum())
        ctx.expect_within(np.float64(lhs), np.float64(rhs), slack, f"<{op}(x, w, 'valid'), g>",
                          f"<x, {other}(g, w, 'full')>, the transpose identity")

    adjoint.__doc__ = f"""The transpose of the valid {op} matrix is the full {other} (section 9.5).

    ``<A x, g> = <x, A^T g>`` with ``A^T g = {other}(g, w, 'full')``: this is how gradients
    flow back through a convolutional layer.  Exact on exact data.
    """


@prop("convolve_commutativity", op="convolve", concepts=("commutativity",), axes=("dtype", "ndim"),
      statement="convolve(x, w, 'full') = convolve(w, x, 'full') (eq. 9.5)")
def convolve_commutativity(ctx):
    """Convolution is commutative (eq. 9.5), because the kernel is flipped.

    Holds in ``full`` mode for any two shapes (the kernel may be the longer one).  Exact.
    """
    x, w = signal_data(ctx, mode="full")
    a = ctx.call("convolve", x, w, mode="full")
    ctx.nondegenerate(a)
    b = ctx.call("convolve", w, x, mode="full")
    ctx.expect_equal(a, b, "convolve(x, w, 'full')", "convolve(w, x, 'full'), eq. 9.5")


@prop("correlate_reversal", op="correlate", concepts=("commutativity",), axes=("dtype", "ndim"),
      statement="correlate(x, w, 'full') = reverse(correlate(w, x, 'full')): correlation is not commutative")
def correlate_reversal(ctx):
    """Swapping the arguments of correlation reverses the output.

    Cross-correlation lacks the commutativity of eq. 9.5 because the kernel is not flipped;
    what survives is ``correlate(x, w) = reverse(correlate(w, x))`` in ``full`` mode.  Exact.
    """
    x, w = signal_data(ctx, mode="full")
    a = ctx.call("correlate", x, w, mode="full")
    ctx.nondegenerate(a)
    b = ctx.call("correlate", w, x, mode="full")
    ctx.expect_equal(a, flip(b), "correlate(x, w, 'full')", "correlate(w, x, 'full') reversed")


@prop("flip_relation", op="convolve", concepts=("flip-relation",), axes=("dtype", "ndim", "mode"), uses=("correlate",),
      statement="convolve(x, w, mode) = correlate(x, reverse(w), mode) in every mode")
def flip_relation(ctx):
    """Convolution is cross-correlation with the kernel flipped on every axis (eq. 9.4 vs 9.6).

    Holds in every mode, including ``same`` with even kernels, since both functions cut
    ``same`` from ``full`` at the same offset.  Exact.
    """
    x, w = signal_data(ctx)
    mode = ctx.axis("mode")
    a = ctx.call("convolve", x, w, mode=mode)
    ctx.nondegenerate(a)
    b = ctx.other("correlate", x, flip(w).copy(), mode=mode)
    ctx.expect_equal(a, b, f"convolve(x, w, {mode!r})", f"correlate(x, reverse(w), {mode!r})")


@for_each("correlate", "convolve")
def _linearity(op):
    @prop(f"{op}_linearity", op=op, concepts=("linearity",), axes=("dtype", "ndim", "mode"),
          statement=f"{op}(a x1 + b x2, w) = a {op}(x1, w) + b {op}(x2, w), and likewise in w")
    def linearity(ctx):
        mode = ctx.axis("mode")
        x1, w = signal_data(ctx)
        x2 = ctx.exact(x1.shape)
        a, b = ctx.draw(st.tuples(st.sampled_from([1, -1, 2, 3]), st.sampled_from([1, -2, 0.5, 4])), label="a, b")
        in_kernel = ctx.draw(st.booleans(), label="in_kernel")
        if in_kernel:  # bilinear: the same holds for the kernel argument
            w2 = ctx.exact(w.shape)
            lhs = ctx.call(op, x1, (a * w + b * w2).astype(w.dtype), mode=mode)
            parts = ctx.call(op, x1, w, mode=mode), ctx.call(op, x1, w2, mode=mode)
            what = f"{op}(x, a w1 + b w2, {mode!r})"
        else:
            lhs = ctx.call(op, (a * x1 + b * x2).astype(x1.dtype), w, mode=mode)
            parts = ctx.call(op, x1, w, mode=mode), ctx.call(op, x2, w, mode=mode)
            what = f"{op}(a x1 + b x2, w, {mode!r})"
        rhs = a * parts[0].astype(np.float64) + b * parts[1].astype(np.float64)
        ctx.nondegenerate(parts[0], parts[1])
        ctx.expect_equal(lhs, rhs, what, "the same combination of the separate outputs")

    linearity.__doc__ = f"""{op} is linear in the input and in the kernel.

    ``a`` and ``b`` are small powers of two and integers, so every combination stays in
    exact arithmetic and both sides must agree exactly.
    """


@for_each("correlate", "convolve")
def _translation(op):
    @prop(f"{op}_translation_equivariance", op=op, concepts=("translation-equivariance",), axes=("dtype", "ndim"),
          statement=f"shifting x shifts {op}(x, w): exactly for circular boundaries (roll), in full mode (zeros), and in the interior (valid)")
    def translation(ctx):
        x, w = signal_data(ctx, mode="valid")
        axis = ctx.draw(st.integers(0, x.ndim - 1), label="axis")
        boundary = ctx.draw(st.sampled_from(["circular", "full", "interior"]), label="boundary")
        m, k = x.shape[axis], w.shape[axis]
        if boundary == "interior":
            assert m >= k
            s = ctx.draw(st.integers(0, m - k), label="shift")
            shifted = ctx.call(op, take(x, axis, slice(s, None)).copy(), w, mode="valid")
            y = ctx.call(op, x, w, mode="valid")
            expected = take(y, axis, slice(s, None))
        elif boundary == "full":
            s = ctx.draw(st.integers(1, 12), label="shift")
            shifted = ctx.call(op, pad_axis(x, axis, before=s), w, mode="full")
            expected = pad_axis(ctx.call(op, x, w, mode="full"), axis, before=s)
        else:
            s = ctx.draw(st.integers(1, m), label="shift")
            wrap = [(0, k - 1) for k in w.shape]  # circular boundary: the input repeats
            y = ctx.call(op, np.pad(x, wrap, mode="wrap"), w, mode="valid")
            shifted = ctx.call(op, np.pad(np.roll(x, s, axis), wrap, mode="wrap"), w, mode="valid")
            expected = np.roll(y, s, axis)
        ctx.nondegenerate(expected)
        ctx.expect_equal(shifted, expected, f"{op}(x shifted by {s} on axis {axis})",
                         f"{op}(x) shifted by {s} ({boundary} boundary)")

    translation.__doc__ = f"""{op} commutes with translation (section 9.2, equivariance).

    Circular boundary (input wrapped around): rolling ``x`` rolls the output, exactly.  Zero
    boundary: in ``full`` mode prepending zeros prepends zeros; in ``valid`` mode dropping
    the first ``s`` inputs drops the first ``s`` outputs (the interior is unaffected by the
    edge).  Exact.
    """


SHAPE_RULES = (
    ("full", "shape-full", "m + k - 1", lambda m, k: m + k - 1),
    ("same", "shape-same", "m", lambda m, k: m),
    ("valid", "shape-valid", "m - k + 1", lambda m, k: m - k + 1),
)


@for_each("correlate", "convolve")
def _shape(op):
    for mode, concept, rule, length in SHAPE_RULES:
        def shape(ctx, mode=mode, rule=rule, length=length):
            x, w = signal_data(ctx, mode=mode, real=True)
            y = ctx.call(op, x, w, mode=mode, check_shape=False)
            want = tuple(length(m, k) for m, k in zip(x.shape, w.shape))
            ctx.expect(y.shape == want, f"{op}(x, w, mode={mode!r}).shape={y.shape} for x.shape={x.shape}, "
                                        f"w.shape={w.shape}, but should be {want} ({rule} per axis)")

        shape.__doc__ = f"""In ``{mode}`` mode the output length per axis is ``{rule}``.

        {'Any kernel length, including kernels longer than the input.' if mode != 'valid' else 'Requires m >= k on every axis.'}
        """
        prop(f"{op}_shape_{mode}", op=op, concepts=(concept,), axes=("dtype", "ndim"),
             statement=f"{op}(x, w, {mode!r}).shape[i] = {rule}")(shape)


@for_each("correlate", "convolve")
def _mode_slices(op):
    @prop(f"{op}_modes_are_slices_of_full", op=op, concepts=("shape-same", "shape-valid"), axes=("dtype", "ndim"),
          statement=f"{op}(x, w, 'same') = full[(k-1)//2 : (k-1)//2 + m] and {op}(x, w, 'valid') = full[k-1 : m]")
    def slices(ctx):
        x, w = signal_data(ctx, mode="valid")
        full = ctx.call(op, x, w, mode="full")
        ctx.nondegenerate(full)
        same = ctx.call(op, x, w, mode="same")
        valid = ctx.call(op, x, w, mode="valid")
        at = tuple(slice(same_offset(k), same_offset(k) + m) for m, k in zip(x.shape, w.shape))
        ctx.expect_equal(same, full[at], f"{op}(x, w, 'same')", "full[(k-1)//2 : (k-1)//2 + m], the SciPy/NumPy convention")
        inner = tuple(slice(k - 1, m) for m, k in zip(x.shape, w.shape))
        ctx.expect_equal(valid, full[inner], f"{op}(x, w, 'valid')", "full[k-1 : m]")

    slices.__doc__ = """``same`` and ``valid`` are slices of ``full`` (docs/explanation/contract.md).

    ``same`` starts at ``(k - 1) // 2``: for even ``k`` it is off-centre toward the start,
    as in ``scipy.signal`` and ``numpy.convolve``.  ``valid`` keeps the complete overlaps.
    """


@for_each("correlate", "convolve")
def _zero_padding(op):
    @prop(f"{op}_zero_padding", op=op, concepts=("zero-padding",), axes=("dtype", "ndim"),
          statement=f"{op}(x, w, 'full') = {op}(pad(x, k - 1), w, 'valid'): full mode is valid mode on the zero-padded input")
    def zero_padding(ctx):
        x, w = signal_data(ctx, mode="full")
        full = ctx.call(op, x, w, mode="full")
        ctx.nondegenerate(full)
        padded = np.pad(x, [(k - 1, k - 1) for k in w.shape])
        ctx.expect_equal(ctx.call(op, padded, w, mode="valid"), full, f"{op}(pad(x, k-1), w, 'valid')", f"{op}(x, w, 'full')")

    zero_padding.__doc__ = """Full mode is valid mode after padding ``k - 1`` zeros on both sides (section 9.3).

    Zero padding lets the kernel visit every position where it overlaps the input.  Exact.
    """


@for_each("correlate", "convolve")
def _variable_size(op):
    @prop(f"{op}_variable_size", op=op, concepts=("variable-size",), axes=("dtype", "ndim"),
          statement=f"the same kernel on a prefix x[:m'] gives the prefix of the outputs: {op}(x[:m'], w, 'valid') = {op}(x, w, 'valid')[:m' - k + 1]")
    def variable_size(ctx):
        x, w = signal_data(ctx, mode="valid")
        cut = tuple(ctx.draw(st.integers(k, m), label=f"m'[{i}]") for i, (m, k) in enumerate(zip(x.shape, w.shape)))
        y = ctx.call(op, x, w, mode="valid")
        expected = y[tuple(slice(0, c - k + 1) for c, k in zip(cut, w.shape))]
        ctx.nondegenerate(expected)
        small = ctx.call(op, np.ascontiguousarray(x[tuple(slice(0, c) for c in cut)]), w, mode="valid")
        ctx.expect_equal(small, expected, f"{op}(x[:{cut}], w, 'valid')", f"{op}(x, w, 'valid') cut to the same outputs")

    variable_size.__doc__ = """One kernel serves inputs of any size (section 9.7).

    Each output depends only on its window, so cutting the input to ``m'`` cuts the valid
    output to ``m' - k + 1`` without changing it.  Catches results cached by shape.  Exact.
    """


@for_each("correlate", "convolve")
def _separability(op):
    @prop(f"{op}_separability", op=op, concepts=("separability",), axes=("dtype", ("ndim", (2, 3)), "mode"),
          statement=f"{op}(x, u (x) v, mode) = {op}({op}(x, u, mode), v, mode): a separable kernel is two 1-D passes")
    def separability(ctx):
        mode = ctx.axis("mode")
        x_shape, w_shape = signal_shapes(ctx)
        x = ctx.exact(x_shape)
        factors = [ctx.exact((k,)) for k in w_shape]
        w = factors[0]
        for f in factors[1:]:
            w = np.multiply.outer(w, f)
        expected = ctx.call(op, x, w.astype(x.dtype), mode=mode)
        ctx.nondegenerate(expected)
        y = x
        for axis, f in enumerate(factors):  # one 1-D pass per axis
            shape = [1] * x.ndim
            shape[axis] = f.size
            y = ctx.call(op, y, f.reshape(shape), mode=mode)
        ctx.expect_equal(y, expected, f"one 1-D {op} per axis, {mode!r}", f"{op} with the outer-product kernel")

    separability.__doc__ = """A kernel that is an outer product of 1-D kernels can be applied one axis at a time (section 9.8).

    In every mode, since each axis is cut from ``full`` independently.  Costs O(w d)
    instead of O(w^d) per output.  Exact.
    """


@for_each("correlate", "convolve")
def _embedding(op):
    @prop(f"{op}_dimension_embedding", op=op, concepts=("dimensions",), axes=("dtype", ("ndim", (1, 2)), "mode"), lifts_ndim=True,
          statement=f"a d-D {op} equals the (d+1)-D {op} with a singleton axis appended")
    def embedding(ctx):
        mode = ctx.axis("mode")
        x, w = signal_data(ctx)
        y = ctx.call(op, x, w, mode=mode)
        ctx.nondegenerate(y)
        lifted = ctx.call(op, x[..., None], w[..., None], mode=mode)
        ctx.expect_equal(lifted[..., 0], y, f"{op}(x[..., None], w[..., None], {mode!r})[..., 0]", f"{op}(x, w, {mode!r})")

    embedding.__doc__ = f"""1-D, 2-D and 3-D {op} agree on data that does not use the extra axis.

    Exact.
    """


COMPLEX = (("dtype", COMPLEX_DTYPES), "ndim", "mode")
COMPLEX_SUM = {"correlate": "sum_j x[i + j] conj(w[j])", "convolve": "sum_j x[i - j] w[j]"}


@for_each("correlate", "convolve")
def _complex_definition(op):
    @prop(f"{op}_complex_definition", op=op, concepts=("definition", "complex-signals"), axes=COMPLEX,
          statement=f"{op} of complex signals = {COMPLEX_SUM[op]} over the mode's index range, exactly on Gaussian "
                    "integers")
    def definition(ctx):
        x, w = signal_data(ctx)
        mode = ctx.axis("mode")
        expected = getattr(reference, op)(x, w, mode=mode)
        ctx.nondegenerate(expected)
        y = ctx.call(op, x, w, mode=mode)
        ctx.expect(y.dtype == x.dtype, f"{op}(x: {x.dtype}).dtype={y.dtype}, but should be {x.dtype} (the input's)")
        ctx.expect_equal(y, expected, f"{op}(x, w, mode={mode!r})", f"the defining sum {COMPLEX_SUM[op]}")

    definition.__doc__ = f"""{op} of complex signals agrees with ``{COMPLEX_SUM[op]}`` (docs/explanation/contract.md).

    The data are Gaussian integers times a power of two, so every partial sum of either part
    is exact: a direct backend must match bit for bit, an FFT backend within its bound.
    {'Correlation conjugates the kernel (SciPy, numpy.correlate), so correlate(x, x) peaks at ||x||^2.' if op == 'correlate' else 'Convolution conjugates nothing.'}
    """
    return definition


@for_each("correlate", "convolve")
def _complex_conjugation(op):
    sign = "-1j" if op == "correlate" else "1j"
    @prop(f"{op}_complex_conjugation", op=op, concepts=("complex-signals", "linearity"), axes=COMPLEX,
          statement=f"{op}(x, 1j w) = {sign} {op}(x, w): the kernel is "
                    f"{'conjugated' if op == 'correlate' else 'not conjugated'} (SciPy's convention)")
    def conjugation(ctx):
        x, w = signal_data(ctx)
        mode = ctx.axis("mode")
        y = ctx.call(op, x, w, mode=mode)
        ctx.nondegenerate(y)
        z = ctx.call(op, x, (1j * w).astype(w.dtype), mode=mode)
        ctx.expect_equal(z, (complex(sign) * y).astype(y.dtype), f"{op}(x, 1j w)", f"{sign} times {op}(x, w)")

    conjugation.__doc__ = """The conjugation convention, stated as one identity (docs/explanation/contract.md).

    Correlation conjugates the kernel, so a kernel turned by ``1j`` turns the result by
    ``-1j``; convolution does not, so it turns by ``1j``.  A correlation that forgets the
    conjugate, or a convolution that adds one, gives the opposite sign.  Multiplying by
    ``1j`` is exact, so the identity is too on exact data.
    """
    return conjugation


@for_each("correlate", "convolve")
def _complex_accuracy(op):
    @prop(f"{op}_complex_accuracy", op=op, concepts=("accuracy", "complex-signals"), axes=COMPLEX,
          statement=f"|{op}(x, w) - exact| <= sqrt(2) gamma_(n+2) (|x| * |w|) (direct) or the normwise FFT bound, on "
                    "complex data")
    def accuracy_(ctx):
        x, w = signal_data(ctx, real=True)
        mode = ctx.axis("mode")
        exact = getattr(reference, op)(x, w, mode=mode, acc=np.longdouble)
        y = ctx.call(op, x, w, mode=mode)
        caps = ctx.backend.capabilities
        cls = caps.accuracy_for(op, (x, w), {"mode": mode})
        bound = accuracy.error_bound(cls, op, (x, w), {"mode": mode}, x.dtype, caps.arithmetic_for(op))
        ctx.expect_accurate(y, exact, bound, op, (x, w), {"mode": mode}, f"{op}(x, w, mode={mode!r})",
                            f"the exact result within the {cls} bound for {x.dtype}")

    accuracy_.__doc__ = f"""Complex {op} is as accurate as its algorithm class allows (docs/explanation/accuracy.md).

    A complex product is four real products and two sums, so direct summation of ``n`` of
    them is within ``sqrt(2) gamma_(n+2)`` of ``|x| * |w|`` (Higham, *Accuracy and Stability
    of Numerical Algorithms*, §3.6); the FFT class keeps its normwise bound.  A complex128
    function computed in complex64 misses it.
    """
    return accuracy_
