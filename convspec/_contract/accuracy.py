"""The accuracy model (docs/explanation/accuracy.md): exact data, and error bounds from error analysis.

Exact mode
    Values are small integers times one power of two per array, sized so that every partial
    sum of every output is an integer multiple of that power below 2**p (p = 24 for float32,
    53 for float64).  Then every summation order gives the exact result, and a direct
    backend must agree with the definition bit for bit.

Real-valued mode
    Direct summation of n products satisfies ``|y_hat - y| <= gamma_n * (|x| * |w|)`` elementwise,
    with ``gamma_n = n u / (1 - n u)`` and u the unit roundoff of the dtype (Higham, *Accuracy
    and Stability of Numerical Algorithms*, §3.1).  FFT-based methods are only stable
    normwise: for a transform of total length L,
    ``max |y_hat - y| <= C u log2(L) (||x||_2 ||w||_1 + ||x||_1 ||w||_2)`` per output channel,
    summed over the input channels it reads, with ``C`` = :data:`FFT_CONSTANT`.
    The oracle is the reference computed in ``np.longdouble``; its own rounding is added to
    the bound.
"""

from __future__ import annotations

import math

import numpy as np

from convspec._contract import reference

#: Exact-mode integer range: values in [-EXACT_RANGE, EXACT_RANGE].
EXACT_RANGE = 8
#: Constant of the normwise FFT bound (the error of scipy.fft is far below it in practice).
FFT_CONSTANT = 4.0


def finfo(dtype):
    """``numpy.finfo``, also for bfloat16 (whose limits ``ml_dtypes.finfo`` gives)."""
    try:
        return np.finfo(dtype)
    except ValueError:
        import ml_dtypes

        return ml_dtypes.finfo(dtype)


def unit_roundoff(dtype) -> float:
    return float(finfo(dtype).eps) / 2


#: TF32's unit roundoff: a float32 with its mantissa cut to 10 bits (NVIDIA Ampere tensor cores).
TF32_UNIT_ROUNDOFF = 2.0 ** -11
LOW_PRECISION = ("float16", "bfloat16")


def units(dtype, arithmetic=None) -> tuple:
    """How a backend computes on ``dtype`` (docs/explanation/accuracy.md): ``(rounding of each
    product: (roundings, u), accumulation u, final rounding u, accumulation dtype)``.

    float16/bfloat16 inputs accumulate in float32 by default (their products are exact there:
    11 + 11 and 8 + 8 significant bits), with one final rounding to the input dtype;
    ``accumulate: "storage"`` rounds every product and partial sum to the input dtype instead.
    float32 products are exact unless ``products: "tf32"``: each input is rounded to TF32 (two
    roundings of ``2**-11`` per product)."""
    arithmetic = arithmetic or {}
    name = np.dtype(dtype).name
    u = unit_roundoff(dtype)
    if name in LOW_PRECISION:
        if arithmetic.get("accumulate", "float32") == "storage":
            return (1, u), u, 0.0, np.dtype(dtype)
        return (0, 0.0), unit_roundoff(np.float32), u, np.dtype(np.float32)
    if name == "float32" and arithmetic.get("products") == "tf32":
        return (2, TF32_UNIT_ROUNDOFF), u, 0.0, np.dtype(dtype)
    return (0, 0.0), u, 0.0, np.dtype(dtype)


def input_underflow(dtype, arithmetic=None) -> float:
    """The absolute error rounding one input to the product format may add below its normal
    range: TF32 keeps float32's exponent range but 10 significand bits, so its subnormals are
    ``2**-136`` apart (the whole spacing, as :func:`underflow`); 0 where inputs are not rounded."""
    (rounds, u_p), *_ = units(dtype, arithmetic)
    return 2.0 ** (-126 - 10) if rounds and u_p == TF32_UNIT_ROUNDOFF else 0.0


def gamma(n: int, u: float) -> float:
    """``gamma_n = n u / (1 - n u)``: the relative error of n-term direct summation."""
    if n * u >= 1:
        return math.inf
    return n * u / (1 - n * u)


def exact_array(rng: np.random.Generator, shape, dtype, *, exponent=0, density=1.0) -> np.ndarray:
    """Small integers in ``[-EXACT_RANGE, EXACT_RANGE]`` times ``2**exponent``.

    With ``density < 1`` a fraction of entries is zero (sparse data finds bugs that dense,
    evenly mixed data averages out).
    """
    a = rng.integers(-EXACT_RANGE, EXACT_RANGE + 1, size=shape).astype(dtype)
    if np.dtype(dtype).kind == "c":  # Gaussian integers: both parts exact
        a = a + 1j * rng.integers(-EXACT_RANGE, EXACT_RANGE + 1, size=shape)
        a = a.astype(dtype)
    if density < 1:
        a[rng.random(size=shape) >= density] = 0
    return a * np.dtype(dtype).type(2.0**exponent)


def exact_fits(terms: int, dtype) -> bool:
    """Whether sums of ``terms`` products of exact-mode values are exactly representable."""
    mantissa = finfo(dtype).nmant + 1
    return terms * EXACT_RANGE * EXACT_RANGE < 2**mantissa


def real_array(rng: np.random.Generator, shape, dtype, *, scale=1.0) -> np.ndarray:
    """Normally distributed values of magnitude ``scale``, with sign changes (cancellation);
    complex dtypes get both parts so."""
    a = rng.standard_normal(size=shape) * scale
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(size=shape) * scale
    return a.astype(dtype)


# ----------------------------------------------------------------- the bounds


POOLS = ("max_pool", "avg_pool", "lp_pool", "adaptive_max_pool", "adaptive_avg_pool", "max_unpool")


def terms_per_output(op: str, args, kwargs) -> int:
    """An upper bound on the number of products each output of ``op`` sums."""
    a, b = (np.shape(v) for v in args[:2])
    nd = len(a) - 2
    if op == "conv":
        return int(np.prod(b[1:]))
    if op == "conv_grad_input":  # every output channel of the group, every tap
        return int(b[0] // kwargs["groups"] * np.prod(b[2:]))
    if op == "conv_grad_weight":  # every batch item and output position
        return int(a[0] * np.prod(a[2:]))
    if op == "local_conv":
        return int(np.prod(b[1 + nd:]))
    if op == "tiled_conv":
        return int(np.prod(b[1:2 + nd]))
    return int(np.prod(b))


def underflow(dtype) -> float:
    """``eta``: the absolute error one rounding may add near the underflow threshold
    (``fl(a b) = a b (1 + d) + e``, ``|e| <= eta``; Higham §2.1).  Half the subnormal spacing
    is not representable itself, so the whole spacing is used."""
    return float(finfo(dtype).smallest_subnormal)


def direct_bound(op: str, args, kwargs, dtype, arithmetic=None):
    """Elementwise bound ``gamma_n (|a| * |b|) + n eta`` for direct summation in ``dtype``.

    ``n eta`` covers products that fall below the normal range (each may lose up to half a
    subnormal spacing).  Includes the rounding of the longdouble oracle itself.  With another
    arithmetic (:func:`units`): products rounded ``r`` times by ``u_p``, sums in ``u_a``, a final
    rounding ``u_o``: ``u_o |y| + (1 + u_o) ((1 + gamma_r(u_p)) (1 + gamma_n(u_a)) - 1) (|a| * |b|)``
    (each product carries at most ``gamma_r(u_p)``, then the n-term sum ``gamma_n(u_a)``, then
    the result one more rounding).
    """
    magnitude = getattr(reference, op)(*(np.abs(v) for v in args), acc=np.longdouble, **kwargs)
    n = terms_per_output(op, args, kwargs)
    (rounds, u_p), u_a, u_o, acc = units(dtype, arithmetic)
    g = (1 + gamma(rounds, u_p)) * (1 + gamma(n, u_a)) - 1 if rounds else gamma(n, u_a)
    if np.dtype(dtype).kind == "c":  # a complex product is 4 real products and 2 sums: sqrt(2) gamma_(n+2)
        g, n = math.sqrt(2) * gamma(n + 2, u_a), 2 * n
    bound = (1 + u_o) * g * magnitude + gamma(n + 1, unit_roundoff(np.longdouble)) * magnitude \
        + 2 * n * underflow(acc) + (underflow(dtype) if u_o else 0.0)
    if u_o:
        bound = bound + u_o * np.abs(getattr(reference, op)(*args, acc=np.longdouble, **kwargs))
    eta = input_underflow(dtype, arithmetic)
    if eta:  # (a + e_a)(b + e_b) - ab, |e| <= eta: eta (|b| + |a| + eta) per product, then summed
        a, b = (np.abs(np.asarray(v)).astype(np.longdouble) for v in args[:2])
        rest = [np.zeros_like(np.asarray(v)) for v in args[2:]]
        etas = [np.full(np.shape(v), eta, dtype=np.longdouble) for v in (a, b)]
        bound = bound + (1 + u_o) * (1 + g) * sum(
            getattr(reference, op)(p, q, *rest, acc=np.longdouble, **kwargs)
            for p, q in ((etas[0], b), (a, etas[1]), (etas[0], etas[1])))
    return bound.astype(np.float64)


def transform_length(op: str, x_shape, w_shape, kwargs) -> int:
    """The length of the transform an FFT method of ``op`` uses (the normwise bound's ``L``)."""
    if op in ("conv", "correlate", "convolve"):
        return _fft_length(op, x_shape, w_shape, kwargs)
    return int(np.prod(x_shape)) + int(np.prod(w_shape))


def _fft_length(op: str, x_shape, w_shape, kwargs) -> int:
    if op == "conv":
        padded = [s + p[0] + p[1] for s, p in zip(x_shape[2:], kwargs["padding"])]
        spans = [d * (k - 1) + 1 for k, d in zip(w_shape[2:], kwargs["dilation"])]
        return int(np.prod([s + k - 1 for s, k in zip(padded, spans)]))
    return int(np.prod([m + k - 1 for m, k in zip(x_shape, w_shape)]))


def fft_bound(op: str, args, kwargs, dtype, arithmetic=None):
    """Normwise bound for FFT-based methods.

    Per (batch, output channel) for ``conv``, returned with trailing singleton axes so it
    broadcasts against the output; one number for the signal functions; for the other
    linear functions (gradients, unshared layers) from the norms of the whole arguments.
    """
    x, w = (np.abs(np.asarray(v)).astype(np.longdouble) for v in args[:2])  # norms of huge values do not overflow
    if op in ("conv", "correlate", "convolve"):
        length = _fft_length(op, x.shape, w.shape, kwargs)
    else:
        length = x.size + w.size
    (rounds, u_p), u_a, u_o, acc = units(dtype, arithmetic)
    factor = FFT_CONSTANT * (u_a + rounds * u_p) * (math.log2(max(length, 2)) + 1)
    floor = 2 * length * underflow(acc)  # roundings below the normal range
    eta = input_underflow(dtype, arithmetic)
    if eta:  # each input may move by eta below TF32's normal range (see direct_bound)
        floor = floor + 2 * eta * (x.sum() + w.sum() + eta * x.size * w.size)
    if u_o:  # a final rounding to the input dtype: u_o of the largest result, and its underflow
        floor = floor + u_o * np.abs(np.asarray(getattr(reference, op)(*args, acc=np.longdouble, **kwargs))).max() \
            + underflow(dtype)
    if op != "conv":
        norm = np.sqrt((x * x).sum()) * np.abs(w).sum() + np.abs(x).sum() * np.sqrt((w * w).sum())
        return np.float64(factor * norm + floor)
    n, c_in = x.shape[:2]
    c_out, c_group = w.shape[:2]
    groups = c_in // c_group
    x2 = np.sqrt((x.reshape(n, c_in, -1) ** 2).sum(-1))  # (N, C_in)
    x1 = np.abs(x.reshape(n, c_in, -1)).sum(-1)
    w2 = np.sqrt((w.reshape(c_out, c_group, -1) ** 2).sum(-1))  # (C_out, Cg)
    w1 = np.abs(w.reshape(c_out, c_group, -1)).sum(-1)
    bound = np.zeros((n, c_out), dtype=np.longdouble)
    o_group = c_out // groups
    for g in range(groups):
        xs = slice(g * c_group, (g + 1) * c_group)
        os_ = slice(g * o_group, (g + 1) * o_group)
        bound[:, os_] = x2[:, xs] @ w1[os_].T + x1[:, xs] @ w2[os_].T
    return (factor * bound + floor).astype(np.float64).reshape(bound.shape + (1,) * (x.ndim - 2))


def pool_bound(op: str, args, kwargs, dtype, accuracy="direct", arithmetic=None):
    """Pooling error: max is exact whatever the algorithm.  A direct mean or Lp norm of ``n``
    terms is within ``gamma_(n+3)`` of its magnitude, plus ``2 n eta`` for roundings below the
    normal range; other algorithms (running sums, recursive filters) only normwise, within
    ``gamma_(n+L+3)`` of the largest magnitude in the (batch, channel) slice of length L.

    The Lp norm's ``n + 3``: with the terms scaled by the window's largest magnitude ``m`` (so
    no power overflows or underflows), each term ``(|x|/m)^p`` carries ``(p + 1) u``, the sum
    ``(n - 1) u``, the p-th root divides both by ``p`` and adds ``u``, the product by ``m``
    another ``u``: ``((n + p) / p + 2) u <= (n + 3) u`` for ``p >= 1``.  The root taken as a
    power with the exponent ``1/p`` rounded to the dtype adds ``u |ln y|`` relatively
    (``S^(r (1 + d)) = S^r exp(r d ln S)``, ``r ln S = ln y``).  The mean: ``n - 1``
    additions and a division."""
    x = args[0]
    if op in ("max_pool", "adaptive_max_pool", "max_unpool"):  # exact: a choice or a placement
        return np.float64(0.0)
    _, u, u_o, acc = units(dtype, arithmetic)
    if u_o:  # sums in float32, then one rounding to the input dtype (and its underflow)
        y = np.abs(getattr(reference, op)(x, acc=np.longdouble, **kwargs))
        with np.errstate(invalid="ignore"):
            rounding = np.nan_to_num(u_o * y) + underflow(dtype)
        return pool_bound(op, (np.asarray(x, dtype=acc),), kwargs, acc, accuracy) + rounding.astype(np.float64)
    if accuracy != "direct":
        a = np.abs(np.asarray(x, dtype=np.longdouble))
        p = kwargs.get("p", 1)
        top = a.reshape(a.shape[:2] + (-1,)).max(-1)
        n = int(np.prod(kwargs.get("window", a.shape[2:]))) + int(np.prod(a.shape[2:]))
        scale = n ** (1.0 / p) * top if op == "lp_pool" else top
        relative = gamma(n + 3, u)
        if op == "lp_pool":
            relative = relative + u * np.abs(np.log(np.where(scale > 0, scale, 1)))
        bound = relative * scale + 2 * n * underflow(dtype)
        return bound.astype(np.float64).reshape(scale.shape + (1,) * (a.ndim - 2))
    if op == "adaptive_avg_pool":
        n = int(np.prod([-(-s // o) + 1 for s, o in zip(np.shape(x)[2:], kwargs["output_size"])]))
        magnitude = reference.adaptive_avg_pool(np.abs(x), acc=np.longdouble, **kwargs)
    else:
        n = int(np.prod(kwargs["window"]))
        fn = getattr(reference, op)
        magnitude = fn(np.abs(x), acc=np.longdouble, **kwargs)
    relative = gamma(n + 3, u)
    if op == "lp_pool":
        with np.errstate(divide="ignore"):
            relative = relative + u * np.abs(np.log(np.where(magnitude > 0, magnitude, 1)))
    return (relative * magnitude + 2 * n * underflow(dtype)).astype(np.float64)


def error_bound(accuracy: str, op: str, args, kwargs, dtype, arithmetic=None):
    """The bound for one call of a backend of class ``accuracy``, broadcastable to its output.

    ``"direct"`` gets the elementwise bound; ``"fft"``, ``"normwise"`` and ``"undeclared"`` the normwise one;
    pooling its own (its error does not depend on the algorithm class); integer data none
    (every integer result is exact, docs/explanation/contract.md).
    """
    if np.dtype(dtype).kind in "iu":
        return 0.0
    if op in POOLS:
        return pool_bound(op, args, kwargs, dtype, accuracy, arithmetic)
    if accuracy == "direct":
        return direct_bound(op, args, kwargs, dtype, arithmetic)
    return fft_bound(op, args, kwargs, dtype, arithmetic)


def comparison_slack(accuracy: str, op: str, args, kwargs, dtype, arithmetic=None) -> float:
    """How far one call's output may stray on exact-mode data: nothing for a direct backend's
    sums (they are exact) and for max pooling; the bound otherwise, and where products are
    rounded (TF32: an input computed by an earlier call may have more significant bits than
    TF32 keeps), and where the result is rounded to a low-precision dtype (a sum of exact-mode
    data need not be representable in float16 or bfloat16).  Integer results are exact."""
    if np.dtype(dtype).kind in "iu":
        return 0.0
    (products, _), _, final, _ = units(dtype, arithmetic)
    if op not in POOLS and accuracy == "direct" and not products and not final:
        return 0.0
    return float(np.max(error_bound(accuracy, op, args, kwargs, dtype, arithmetic)))
