"""The backend contract: names, keywords, output shapes and argument checks.

Everything a backend must agree on lives here once (docs/explanation/contract.md):

Signal level (single channel, like ``scipy.signal``)::

    correlate(x, w, *, mode)      cross-correlation, eq. 9.6
    convolve(x, w, *, mode)       convolution (kernel flipped), eq. 9.4

``x.ndim == w.ndim`` in {1, 2, 3}.  Output length per axis, for input length ``m`` and
kernel length ``k``:

======  ===========  =====================================================
mode    length       position
======  ===========  =====================================================
full    m + k - 1    every overlap of x and w
same    m            slice of ``full`` starting at ``(k - 1) // 2``
valid   m - k + 1    only complete overlaps; requires ``m >= k``
======  ===========  =====================================================

Layer level (batched, channels first, like deep-learning libraries)::

    conv(x, w, *, stride, padding, dilation, groups)     eq. 9.7 / 9.8

``x: (N, C_in, *S)``, ``w: (C_out, C_in // groups, *K)``; ``stride`` and ``dilation`` are
tuples of positive ints (one per spatial axis); ``padding`` is a tuple of ``(before, after)``
pairs of non-negative ints; output channel ``o`` reads input group ``o // (C_out // groups)``.
Output ``(N, C_out, *O)`` with
``O_i = (S_i + before_i + after_i - dilation_i * (K_i - 1) - 1) // stride_i + 1``.
``conv`` may take ``bias``: ``(C_out,)`` shared per channel or ``(C_out, *O)`` untied (per location).

Gradients (eq. 9.11-9.13), for ``y = conv(x, w, ...)`` and ``gy = dL/dy``::

    conv_grad_weight(gy, x, *, weight_shape, stride, padding, dilation, groups)   dL/dw, eq. 9.11
    conv_grad_input(gy, w, *, input_shape, stride, padding, dilation, groups[, bias])   dL/dx, eq. 9.13

``conv_grad_input`` is the transposed convolution; it must be told the input shape, since
with stride > 1 up to ``stride`` input sizes give the same output size.

Pooling, per channel over ``x: (N, C, *S)``::

    max_pool(x, *, window, stride, padding, ceil_mode=False[, dilation][, return_indices])
    avg_pool(x, *, window, stride, padding, ceil_mode=False, count_padding=False[, dilation])
    lp_pool(x, *, p, window, stride, padding, ceil_mode=False[, dilation])
    adaptive_max_pool(x, *, output_size)
    adaptive_avg_pool(x, *, output_size)
    max_unpool(y, indices, *, output_size)

======================  =======================================================================
window span             ``D = dilation * (window - 1) + 1``: taps ``dilation`` apart
                        (``dilation`` defaults to 1; feature ``pool_dilation``)
output size             ``O = (S + before + after - D) // stride + 1``; with ``ceil_mode``
                        rounded up, but a window may not start in the after-padding
                        (``(O - 1) * stride < S + before``), as in PyTorch
padding                 ``before, after <= window // 2`` (PyTorch's rule), so an undilated
                        window always holds an input element; with feature
                        ``pool_padding_to_window`` ``before, after <= window - 1`` (ONNX, JAX).
                        A dilated window can hold padding only, within either limit
                        (window 2, padding (1, 1), dilation ``S + 1``: taps at -1 and ``S``)
max                     padding is -inf (never wins); a window holding NaN gives NaN; a
                        window of padding only gives -inf; ``return_indices`` (feature
                        ``max_pool_indices``): also the flat index over S (C order) of the
                        window's first NaN, else first maximum; -1 for padding only
avg                     divisor: the window's input elements (``count_padding=False``; a
                        window of padding only gives 0 / 0 = NaN), or the window's taps
                        clipped to the declared padding (``count_padding=True``; 0 there)
lp                      ``(sum |x|^p) ** (1/p)`` over the window, padding contributes 0; p >= 1;
                        ``p = 2`` is the L2 norm of the window (0 for padding only)
adaptive                bin ``i`` of ``O`` over ``S``: ``[floor(i S / O), ceil((i + 1) S / O))``
unpool                  ``max_unpool``: zeros of shape ``(N, C, *output_size)`` with ``y[n, c, i]``
                        put at the flat position ``indices[n, c, i]`` (C order over
                        ``output_size``), the inverse placement of ``max_pool``'s indices;
                        -1 puts nothing; positions must be distinct
======================  =======================================================================

Integer data (``INTEGER_DTYPES``, declared per function in ``dtypes``; ONNX's ``ConvInteger``
and integer ``MaxPool``)::

    conv(x, w, *, stride, padding, dilation, groups, x_zero_point=0, w_zero_point=0)
    max_pool(x, ...), adaptive_max_pool(x, ...)

======================  =======================================================================
integer conv            ``x`` and ``w`` int8 or uint8 (each its own); the result is int32 and
                        exact: ``y = sum (x - x_zero_point) (w[o] - w_zero_point[o])``, every
                        product and sum in integers; padding holds ``x_zero_point`` (it adds
                        nothing); ``x_zero_point`` an int in x's range, ``w_zero_point`` an int
                        or ``(C_out,)`` ints in w's range; no ``bias``.  A sum outside int32 is
                        outside the contract (the properties keep ``C_in/groups * prod(K)``
                        at most 33025 = 2**31 / 255**2 taps, so none can be)
integer max pools       the result keeps the dtype and is exact; padding never wins; a window
                        of padding only gives the dtype's least value (-128, 0)
======================  =======================================================================

Quantised conv (feature ``qlinear``; ONNX's ``QLinearConv``, as deployed int8 models run it)::

    conv(x, w, *, stride, padding, dilation, groups, x_zero_point, w_zero_point,
         x_scale, w_scale, y_scale, y_zero_point[, bias])

======================  =======================================================================
inputs                  as the integer conv: ``x``, ``w`` int8 or uint8, zero points in range
scales                  ``x_scale``, ``y_scale``: positive finite float32 scalars; ``w_scale``: one
                        or ``(C_out,)`` (per output channel); each is read as a float32 value
bias                    ``None`` or ``(C_out,)`` int32, in units of ``x_scale * w_scale[o]``
accumulator             ``acc[o] = sum (x - x_zero_point)(w[o] - w_zero_point[o]) + bias[o]``, exact
requantisation          ``y = clip(round(acc[o] * x_scale * w_scale[o] / y_scale) + y_zero_point)``:
                        the real product of the float32 values, rounded half to even, then
                        saturated to the result's range
result dtype            ``y_zero_point``'s: a NumPy ``int8`` or ``uint8`` scalar (a Python int:
                        ``x``'s dtype)
======================  =======================================================================

How a backend rounds is its declaration ``requantize`` (docs/explanation/accuracy.md):
``"exact"`` (the rule above, 0 output units), ``"fixed_point"`` (a 31-bit multiplier and a
rounding shift, as gemmlowp and TFLite; within 1 unit) or ``"float32"`` (the multiplier and the
product in float32, as ONNX Runtime's MLAS; within 1 unit).

Low precision (``LOW_PRECISION_DTYPES``, declared per function in ``dtypes``): float16 and
bfloat16 (``ml_dtypes``) for the signal functions, ``conv``, its gradients and the pools but
``max_unpool``; results keep the input dtype; how the sums are formed is the backend's
declared arithmetic (docs/explanation/accuracy.md; float32 accumulation unless declared).

Complex signals (``COMPLEX_DTYPES``, declared per function): ``correlate`` conjugates the
kernel, ``sum_j x[i + j] conj(w[j])`` (SciPy's and ``numpy.correlate``'s convention, so that
``correlate(x, x)`` peaks at the energy of ``x``); ``convolve`` does not, ``sum_j x[i - j] w[j]``.

Locally connected and tiled layers (no dilation, no groups)::

    local_conv(x, w, *, stride, padding, bias=None)   eq. 9.9,  w: (C_out, *O, C_in, *K)
    tiled_conv(x, w, *, stride, padding, bias=None)   eq. 9.10, w: (C_out, C_in, *K, *T)

``local_conv`` has one kernel per output location (``bias``: ``(C_out, *O)``); ``tiled_conv``
cycles through ``T`` kernels per axis, output ``i`` using kernel ``i % T`` (``bias``:
``(C_out, *T)``, tiled the same way).  ``T = 1`` is ``conv``; ``T = O`` is ``local_conv``.

The ``check_*`` functions are what the bundled backends call to reject bad arguments with
a ``ValueError`` naming the argument and its value.
"""

from __future__ import annotations

import functools
import numbers

import numpy as np



def bfloat16_known() -> bool:
    """Whether ``np.dtype("bfloat16")`` works here: it does once the optional package ml_dtypes is
    imported, which this does on first need (it takes most of a second, so not at start-up)."""
    try:
        import ml_dtypes  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        return False
    return True


def dtype_named(name) -> np.dtype:
    """``np.dtype(name)``, bfloat16 included when ml_dtypes is installed."""
    if name == "bfloat16":
        bfloat16_known()
    return np.dtype(name)

#: Contract functions, by level.
SIGNAL_OPS = ("correlate", "convolve")
LAYER_OPS = ("conv",)
GRADIENT_OPS = ("conv_grad_input", "conv_grad_weight")
POOL_OPS = ("max_pool", "avg_pool", "lp_pool")
ADAPTIVE_OPS = ("adaptive_max_pool", "adaptive_avg_pool")
UNPOOL_OPS = ("max_unpool",)
UNSHARED_OPS = ("local_conv", "tiled_conv")
OPS = SIGNAL_OPS + LAYER_OPS + GRADIENT_OPS + POOL_OPS + ADAPTIVE_OPS + UNPOOL_OPS + UNSHARED_OPS

MODES = ("full", "same", "valid")


def arg_names(op: str) -> tuple[str, ...]:
    """Names of the positional arrays of ``op``, as the contract writes them."""
    return {"conv_grad_input": ("gy", "w"), "conv_grad_weight": ("gy", "x"), "max_unpool": ("y", "indices")}.get(
        op, ("x",) if op.endswith("_pool") else ("x", "w"))
NDIMS = (1, 2, 3)
DTYPES = ("float32", "float64")
#: Integer dtypes, for the functions in :data:`INTEGER_OPS` that declare them (never assumed).
INTEGER_DTYPES = ("int8", "uint8")
INTEGER_OPS = ("conv", "max_pool", "adaptive_max_pool")
#: Low-precision dtypes, for the functions in :data:`LOW_PRECISION_OPS` that declare them (bfloat16
#: is ``ml_dtypes.bfloat16``); results keep the input dtype.
LOW_PRECISION_DTYPES = ("float16", "bfloat16")
LOW_PRECISION_OPS = ("correlate", "convolve", "conv", "conv_grad_input", "conv_grad_weight", "max_pool", "avg_pool",
                     "lp_pool", "adaptive_max_pool", "adaptive_avg_pool")
#: Complex dtypes, for the signal functions that declare them: ``correlate`` conjugates the
#: kernel (``sum_j x[i + j] conj(w[j])``, as SciPy and ``numpy.correlate``), ``convolve`` does not.
COMPLEX_DTYPES = ("complex64", "complex128")
COMPLEX_OPS = SIGNAL_OPS
#: Every dtype a declaration may name (each function takes those :func:`dtypes_of` gives).
ALL_DTYPES = DTYPES + LOW_PRECISION_DTYPES + INTEGER_DTYPES + COMPLEX_DTYPES


def every_dtype(*, complex_=True) -> dict:
    """The per-function ``dtypes`` declaration of a backend with every dtype of the contract
    (``complex_=False``: but the complex signals)."""
    return {"*": list(DTYPES), **{op: [d for d in dtypes_of(op) if complex_ or d not in COMPLEX_DTYPES]
                                  for op in INTEGER_OPS + LOW_PRECISION_OPS + COMPLEX_OPS}}


def flush_subnormals(a: np.ndarray) -> np.ndarray:
    """``a`` with every subnormal entry read as zero of its sign (each part of a complex one), as
    a backend that flushes subnormals (denormals-are-zero) reads it."""
    from convspec._contract.accuracy import finfo

    tiny = float(finfo(a.dtype).tiny)
    if a.dtype.kind == "c":
        return flush_subnormals(a.real) + 1j * flush_subnormals(a.imag)
    return np.where((a != 0) & (np.abs(a) < tiny), np.copysign(np.zeros_like(a), a), a).astype(a.dtype)


def output_dtype(op: str, args, kwargs=None) -> np.dtype:
    """The dtype the contract gives a call's result: the first input's, but int32 for an integer
    ``conv`` (its sums are exact in int32), and ``y_zero_point``'s for a quantised one."""
    first = np.asarray(args[0])
    if op == "conv" and first.dtype.kind in "iu":
        if kwargs and kwargs.get("y_scale") is not None:
            return quantized_dtype(kwargs.get("y_zero_point"), first.dtype)
        return np.dtype(np.int32)
    return first.dtype


def quantized_dtype(y_zero_point, x_dtype) -> np.dtype:
    """The result dtype of a quantised ``conv``: ``y_zero_point``'s when it is a NumPy int8 or
    uint8 scalar, else ``x``'s."""
    dtype = getattr(y_zero_point, "dtype", None)
    return np.dtype(dtype) if dtype is not None and np.dtype(dtype) in (np.int8, np.uint8) else np.dtype(x_dtype)


def dtypes_of(op: str) -> tuple[str, ...]:
    """Every dtype ``op`` may declare: the float dtypes, and the low-precision, integer and
    complex ones where defined."""
    return DTYPES + (LOW_PRECISION_DTYPES if op in LOW_PRECISION_OPS else ()) \
        + (INTEGER_DTYPES if op in INTEGER_OPS else ()) + (COMPLEX_DTYPES if op in COMPLEX_OPS else ())


# ---------------------------------------------------------------- output sizes


def signal_output_length(m: int, k: int, mode: str) -> int:
    """Output length of ``correlate``/``convolve`` on one axis (see the module table)."""
    if mode == "full":
        return m + k - 1
    if mode == "same":
        return m
    if mode == "valid":
        return m - k + 1
    raise ValueError(f"mode={mode!r}, but should be one of {MODES}")


def signal_output_shape(x_shape, w_shape, mode: str) -> tuple[int, ...]:
    return tuple(signal_output_length(m, k, mode) for m, k in zip(x_shape, w_shape))


def same_offset(k: int) -> int:
    """Start of the ``same`` slice inside the ``full`` output (SciPy / NumPy convention)."""
    return (k - 1) // 2


def conv_output_length(s: int, k: int, stride: int, before: int, after: int, dilation: int) -> int:
    """``O = (S + before + after - dilation * (K - 1) - 1) // stride + 1``."""
    return (s + before + after - dilation * (k - 1) - 1) // stride + 1


def conv_output_shape(x_shape, w_shape, *, stride, padding, dilation, groups=1) -> tuple[int, ...]:
    n, _, *spatial = x_shape
    c_out, _, *kernel = w_shape
    return (n, c_out) + tuple(
        conv_output_length(s, k, st, p[0], p[1], d)
        for s, k, st, p, d in zip(spatial, kernel, stride, padding, dilation)
    )


# ---------------------------------------------------------------- argument checks


def _float_array(name: str, a, integers=False, low=False, complex_=False) -> np.ndarray:
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} is a {type(a).__name__}, but should be a numpy.ndarray")
    if a.dtype not in (np.float32, np.float64) and not (integers and is_integer_data(a)) \
            and not (low and is_low_precision(a)) and not (complex_ and a.dtype in (np.complex64, np.complex128)):
        more = [", ".join(d) for d, on in ((LOW_PRECISION_DTYPES, low), (INTEGER_DTYPES, integers),
                                            (COMPLEX_DTYPES, complex_)) if on]
        raise ValueError(f"{name}.dtype={a.dtype}, but should be float32 or float64" + (f" (or {', '.join(more)})"
                                                                                         if more else ""))
    return a


def is_low_precision(a) -> bool:
    """Whether ``a`` is an array of one of :data:`LOW_PRECISION_DTYPES`."""
    return isinstance(a, np.ndarray) and _low_precision_dtype(a.dtype)


@functools.lru_cache(maxsize=64)
def _low_precision_dtype(dtype) -> bool:
    """Whether ``dtype`` is one of :data:`LOW_PRECISION_DTYPES`, kept per dtype: a dtype's name is
    computed in Python on every read (8 us, a tenth of a small layer's call)."""
    return dtype.name in LOW_PRECISION_DTYPES


def low_precision_in_float32(fn):
    """Decorator for a backend's contract function: float16/bfloat16 arguments are computed in
    float32 and the result rounded once to their dtype, the contract's default low-precision
    arithmetic (docs/explanation/accuracy.md: exact products, float32 sums).  Every array argument
    (and ``bias``) must share the first one's dtype (``ValueError`` naming it); the function
    itself then validates the rest on the float32 copies."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        first = args[0] if args else None
        if not is_low_precision(first):
            return fn(*args, **kwargs)
        names = arg_names(fn.__name__)
        for i, a in enumerate(args[1:], 1):
            if isinstance(a, np.ndarray) and a.dtype != first.dtype and i < len(names):
                raise ValueError(f"{names[i]}.dtype={a.dtype}, but should equal {names[0]}.dtype={first.dtype}")
        bias = kwargs.get("bias")
        if isinstance(bias, np.ndarray) and bias.dtype != first.dtype:
            raise ValueError(f"bias.dtype={bias.dtype}, but should equal {names[0]}.dtype={first.dtype}")

        def cast(a):
            return a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == first.dtype else a

        result = fn(*map(cast, args), **{k: cast(v) for k, v in kwargs.items()})
        if isinstance(result, tuple):  # max_pool's (y, indices)
            return (np.asarray(result[0]).astype(first.dtype),) + tuple(result[1:])
        return np.asarray(result).astype(first.dtype)

    return wrapper


def is_integer_data(a) -> bool:
    """Whether ``a`` is an array of one of :data:`INTEGER_DTYPES`."""
    return isinstance(a, np.ndarray) and a.dtype in (np.int8, np.uint8)


def _zero_point(name, value, dtype, count=None):
    """An int (or, with ``count``, also ``(count,)`` ints) within ``dtype``'s range, as int64."""
    info = np.iinfo(dtype)
    a = np.asarray(0 if value is None else value)
    shapes = ((), (count,)) if count is not None else ((),)
    if a.dtype.kind not in "iu" or a.shape not in shapes:
        want = f"an int or {count} ints (one per output channel)" if count is not None else "an int"
        raise ValueError(f"{name}={value!r}, but should be {want}")
    if a.size and (a.min() < info.min or a.max() > info.max):
        raise ValueError(f"{name}={value!r}, but should lie in {dtype}'s range {info.min}..{info.max}")
    return a.astype(np.int64)


def check_integer_conv_args(x, w, stride, padding, dilation, groups, x_zero_point=None, w_zero_point=None,
                            bias=None):
    """Validate an integer ``conv`` (docs/explanation/contract.md, integer data).

    Returns ``(x, w, stride, padding, dilation, groups, x_zero_point, w_zero_point)``: the zero
    points as int64, ``w_zero_point`` of shape ``(C_out,)``."""
    x = _float_array("x", x, integers=True)
    w = _float_array("w", w, integers=True)
    if not is_integer_data(x) or not is_integer_data(w):
        raise ValueError(f"x.dtype={x.dtype} and w.dtype={w.dtype}, but an integer conv takes int8 or uint8 for both")
    if bias is not None:
        raise ValueError(f"bias={bias!r}, but an integer conv takes no bias (add it to the int32 result)")
    _, _, stride, padding, dilation, groups = check_conv_args(
        np.empty(x.shape, np.float32), np.empty(w.shape, np.float32), stride, padding, dilation, groups)
    zx = _zero_point("x_zero_point", x_zero_point, x.dtype)
    zw = np.broadcast_to(_zero_point("w_zero_point", w_zero_point, w.dtype, w.shape[0]), (w.shape[0],))
    return x, w, stride, padding, dilation, groups, zx, zw


#: The keywords of a quantised ``conv`` (feature ``qlinear``).
QLINEAR_KEYWORDS = ("x_scale", "w_scale", "y_scale", "y_zero_point")
#: How a quantised ``conv`` may round its requantisation (declaration ``requantize``), with the
#: most it may differ from the contract's exact rounding, in output units (docs/explanation/accuracy.md).
REQUANTIZE_TOLERANCE = {"exact": 0, "fixed_point": 1, "float32": 1}


def _scale(name, value, count=None):
    """A positive finite float32 scalar (or, with ``count``, also ``(count,)`` of them), as float32."""
    raw = np.asarray(value)
    shapes = ((), (count,)) if count is not None else ((),)
    if raw.dtype.kind not in "fiu" or raw.shape not in shapes:
        want = f"a float or {count} floats (one per output channel)" if count is not None else "a float"
        raise ValueError(f"{name}={value!r}, but should be {want}")
    with np.errstate(over="ignore"):  # past float32's range: infinite, rejected below
        a = raw.astype(np.float32)
    if not np.all(np.isfinite(a)) or not np.all(a > 0):
        raise ValueError(f"{name}={value!r}, but should be positive and finite (as float32)")
    return a


def check_qlinear_conv_args(x, w, stride, padding, dilation, groups, x_zero_point, w_zero_point, x_scale, w_scale,
                            y_scale, y_zero_point, bias=None):
    """Validate a quantised ``conv`` (feature ``qlinear``, docs/explanation/contract.md).

    Returns ``(x, w, stride, padding, dilation, groups, zx, zw, sx, sw, sy, zy, bias, dtype)``:
    zero points as int64 (``zw`` of shape ``(C_out,)``), scales as float32 (``sw`` of shape
    ``(C_out,)``), ``bias`` as int64 ``(C_out,)`` (zeros when absent) and the result's dtype."""
    x, w, stride, padding, dilation, groups, zx, zw = check_integer_conv_args(
        x, w, stride, padding, dilation, groups, x_zero_point, w_zero_point)
    c_out = w.shape[0]
    sx, sy = _scale("x_scale", x_scale), _scale("y_scale", y_scale)
    sw = np.broadcast_to(_scale("w_scale", w_scale, c_out), (c_out,))
    if isinstance(y_zero_point, (np.ndarray, np.generic)) and y_zero_point.dtype not in (np.int8, np.uint8):
        raise ValueError(f"y_zero_point.dtype={y_zero_point.dtype}, but should be int8 or uint8 (the result's dtype), "
                         "or y_zero_point a Python int (the result then has x's dtype)")
    dtype = quantized_dtype(y_zero_point, x.dtype)
    zy = _zero_point("y_zero_point", y_zero_point, dtype)
    if bias is None:
        b = np.zeros(c_out, np.int64)
    else:
        if not isinstance(bias, np.ndarray) or bias.dtype != np.int32 or bias.shape != (c_out,):
            raise ValueError(f"bias={bias!r}, but a quantised conv takes None or ({c_out},) int32 (units of "
                             "x_scale * w_scale[o])")
        b = bias.astype(np.int64)
    return x, w, stride, padding, dilation, groups, zx, zw, sx, sw, sy, zy, b, dtype


def check_zero_points(x, x_zero_point, w_zero_point):
    """Zero points belong to integer data: with float ``x`` both must be absent (or 0)."""
    for name, value in (("x_zero_point", x_zero_point), ("w_zero_point", w_zero_point)):
        if value is not None and np.any(np.asarray(value) != 0):
            raise ValueError(f"{name}={value!r}, but zero points apply to int8/uint8 data only "
                             f"(x.dtype={getattr(x, 'dtype', type(x).__name__)})")


def check_signal_args(x, w, mode: str, *, low=False, complex_=False):
    """Validate ``correlate``/``convolve`` arguments; returns ``(x, w)``.  ``low``: float16
    and bfloat16 are valid too; ``complex_``: complex64 and complex128."""
    x = _float_array("x", x, low=low, complex_=complex_)
    w = _float_array("w", w, low=low, complex_=complex_)
    if w.dtype != x.dtype:
        raise ValueError(f"w.dtype={w.dtype}, but should equal x.dtype={x.dtype}")
    if x.ndim not in NDIMS:
        raise ValueError(f"x.ndim={x.ndim}, but should be 1, 2 or 3")
    if w.ndim != x.ndim:
        raise ValueError(f"w.ndim={w.ndim}, but should equal x.ndim={x.ndim}")
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}, but should be one of {MODES}")
    if 0 in x.shape or 0 in w.shape:
        raise ValueError(f"x.shape={x.shape}, w.shape={w.shape}, but no axis may be empty")
    if mode == "valid" and any(k > m for m, k in zip(x.shape, w.shape)):
        raise ValueError(
            f"mode='valid' with x.shape={x.shape} and w.shape={w.shape}, "
            "but valid mode requires m >= k on every axis"
        )
    return x, w


def _is_int(v) -> bool:
    return type(v) is int or isinstance(v, numbers.Integral)  # the exact type first: the ABC check is slow


def _int_tuple(name: str, value, nd: int, *, minimum: int) -> tuple[int, ...]:
    if type(value) is tuple and len(value) == nd and all(type(v) is int and v >= minimum for v in value):
        return value  # already normalised (every call from a backend after the first)
    if value is None:
        value = (minimum,) * nd if minimum > 0 else (0,) * nd
    if isinstance(value, numbers.Integral):
        value = (int(value),) * nd
    try:
        value = tuple(value)
    except TypeError:
        raise ValueError(f"{name}={value!r}, but should be a tuple of {nd} ints") from None
    if len(value) != nd or not all(_is_int(v) for v in value):
        raise ValueError(f"{name}={value!r}, but should be a tuple of {nd} ints")
    if any(v < minimum for v in value):
        bound = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{name}={value!r}, but every entry should be {bound}")
    return tuple(int(v) for v in value)


def _padding(value, nd: int) -> tuple[tuple[int, int], ...]:
    if type(value) is tuple and len(value) == nd and all(
        type(p) is tuple and len(p) == 2 and type(p[0]) is int and type(p[1]) is int and min(p) >= 0 for p in value
    ):
        return value  # already normalised
    if value is None:
        return ((0, 0),) * nd
    if isinstance(value, numbers.Integral):
        value = ((value, value),) * nd
    try:
        pairs = tuple(tuple(p) for p in value)
    except TypeError:
        raise ValueError(
            f"padding={value!r}, but should be a tuple of {nd} (before, after) pairs"
        ) from None
    if len(pairs) != nd or any(
        len(p) != 2 or not all(_is_int(v) for v in p) for p in pairs
    ):
        raise ValueError(f"padding={value!r}, but should be a tuple of {nd} (before, after) pairs")
    if any(v < 0 for p in pairs for v in p):
        raise ValueError(f"padding={value!r}, but every entry should be non-negative")
    return tuple((int(a), int(b)) for a, b in pairs)


def check_conv_args(x, w, stride, padding, dilation, groups, *, low=False):
    """Validate ``conv`` arguments.

    Returns ``(x, w, stride, padding, dilation, groups)`` normalised to tuples; ints are
    accepted for convenience and broadcast to every spatial axis.  ``low``: float16 and
    bfloat16 are valid too.
    """
    x = _float_array("x", x, low=low)
    w = _float_array("w", w, low=low)
    if w.dtype != x.dtype:
        raise ValueError(f"w.dtype={w.dtype}, but should equal x.dtype={x.dtype}")
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"x.ndim={x.ndim}, but should be 3, 4 or 5 (N, C_in, *S)")
    if w.ndim != x.ndim:
        raise ValueError(f"w.ndim={w.ndim}, but should equal x.ndim={x.ndim} (C_out, C_in/groups, *K)")
    nd = x.ndim - 2
    if 0 in x.shape or 0 in w.shape:
        raise ValueError(f"x.shape={x.shape}, w.shape={w.shape}, but no axis may be empty")
    if not _is_int(groups) or groups < 1:
        raise ValueError(f"groups={groups!r}, but should be a positive int")
    groups = int(groups)
    c_in, c_out = x.shape[1], w.shape[0]
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"groups={groups}, but should divide C_in={c_in} and C_out={c_out}"
        )
    if w.shape[1] * groups != c_in:
        raise ValueError(
            f"w.shape[1]={w.shape[1]}, but should be C_in/groups={c_in}/{groups}"
        )
    stride = _int_tuple("stride", stride, nd, minimum=1)
    dilation = _int_tuple("dilation", dilation, nd, minimum=1)
    padding = _padding(padding, nd)
    for i, (s, k, (a, b), d) in enumerate(zip(x.shape[2:], w.shape[2:], padding, dilation)):
        if s + a + b < d * (k - 1) + 1:
            raise ValueError(
                f"w.shape={w.shape} with dilation={dilation} spans {d * (k - 1) + 1} on axis {i}, "
                f"but the padded input x is only {s + a + b} long there"
            )
    return x, w, stride, padding, dilation, groups


def pool_output_length(s: int, window: int, stride: int, before: int, after: int, ceil_mode: bool,
                       dilation: int = 1) -> int:
    """Pooling output length; in ceil mode no window may start in the after-padding."""
    span = s + before + after - (dilation * (window - 1) + 1)
    n = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (n - 1) * stride >= s + before:
        n -= 1
    return n


def pool_output_shape(x_shape, *, window, stride, padding, ceil_mode=False, dilation=None) -> tuple[int, ...]:
    dilation = (1,) * len(window) if dilation is None else dilation
    return tuple(x_shape[:2]) + tuple(
        pool_output_length(s, k, st, p[0], p[1], ceil_mode, d)
        for s, k, st, p, d in zip(x_shape[2:], window, stride, padding, dilation)
    )


def adaptive_bins(s: int, o: int) -> list[tuple[int, int]]:
    """``[start, end)`` of each of the ``o`` bins over length ``s`` (PyTorch's rule)."""
    return [((i * s) // o, -(-((i + 1) * s) // o)) for i in range(o)]


def _batched(name, a, integers=False, low=False):
    a = _float_array(name, a, integers, low)
    if a.ndim not in (3, 4, 5):
        raise ValueError(f"{name}.ndim={a.ndim}, but should be 3, 4 or 5 (N, C, *S)")
    if 0 in a.shape:
        raise ValueError(f"{name}.shape={a.shape}, but no axis may be empty")
    return a


def check_pool_args(x, window, stride, padding, ceil_mode=False, dilation=None, *, integers=False, low=False):
    """Validate pooling arguments of the widened contract (features ``pool_dilation`` and
    ``pool_padding_to_window``); returns ``(x, window, stride, padding, dilation)`` as tuples.
    ``integers``: int8/uint8 ``x`` is valid too (max pooling); ``low``: float16 and bfloat16."""
    x = _batched("x", x, integers, low)
    nd = x.ndim - 2
    window = _int_tuple("window", window, nd, minimum=1)
    stride = _int_tuple("stride", window if stride is None else stride, nd, minimum=1)
    dilation = _int_tuple("dilation", 1 if dilation is None else dilation, nd, minimum=1)
    padding = _padding(padding, nd)
    for i, (s, k, d, (a, b)) in enumerate(zip(x.shape[2:], window, dilation, padding)):
        span = d * (k - 1) + 1
        if a > k - 1 or b > k - 1:
            raise ValueError(f"padding={padding}, but should be at most window - 1 = {k - 1} on axis {i} "
                             f"(window={window})")
        if s + a + b < span:
            raise ValueError(f"window={window} spans {span} on axis {i}, but the padded input x is only {s + a + b} "
                             "long there")
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise ValueError(f"ceil_mode={ceil_mode!r}, but should be a bool")
    return x, window, stride, padding, dilation


def check_adaptive_args(x, output_size, *, integers=False):
    x = _batched("x", x, integers)
    output_size = _int_tuple("output_size", output_size, x.ndim - 2, minimum=1)
    if any(o > s for o, s in zip(output_size, x.shape[2:])):
        raise ValueError(f"output_size={output_size}, but should not exceed the input size {x.shape[2:]}")
    return x, output_size


def check_unpool_args(y, indices, output_size):
    """Validate ``max_unpool``'s arguments; returns ``(y, indices, output_size)``."""
    y = _batched("y", y)
    indices = np.asarray(indices)
    if indices.dtype.kind not in "iu":
        raise ValueError(f"indices.dtype={indices.dtype}, but should be an integer dtype")
    if indices.shape != y.shape:
        raise ValueError(f"indices.shape={indices.shape}, but should equal y.shape={y.shape}")
    output_size = _int_tuple("output_size", output_size, y.ndim - 2, minimum=1)
    size = int(np.prod(output_size))
    if indices.size and (indices.min() < -1 or indices.max() >= size):
        raise ValueError(f"indices hold {int(indices.min())}..{int(indices.max())}, but should lie in -1..{size - 1} "
                         f"(flat positions of output_size={output_size})")
    for n, c in np.ndindex(*y.shape[:2]):
        kept = indices[n, c][indices[n, c] >= 0]
        if len(np.unique(kept)) != kept.size:
            raise ValueError(f"indices repeat a position in y[{n}, {c}], but should be distinct (except -1)")
    return y, indices, output_size


def check_grad_args(gy, other, shape, shape_name, stride, padding, dilation, groups):
    """Validate ``conv_grad_input`` (``other = w``) or ``conv_grad_weight`` (``other = x``)."""
    gy = _batched("gy", gy)
    other_name = "w" if shape_name == "input_shape" else "x"
    other = _float_array(other_name, other)
    if other.dtype != gy.dtype:
        raise ValueError(f"{other_name}.dtype={other.dtype}, but should equal gy.dtype={gy.dtype}")
    try:
        shape = tuple(int(v) for v in shape)
    except TypeError:
        raise ValueError(f"{shape_name}={shape!r}, but should be a tuple of ints") from None
    if len(shape) != gy.ndim or any(v < 1 for v in shape):
        raise ValueError(f"{shape_name}={shape}, but should have {gy.ndim} positive entries")
    x_shape, w_shape = (shape, other.shape) if shape_name == "input_shape" else (other.shape, shape)
    try:
        _, _, stride, padding, dilation, groups = check_conv_args(
            np.empty(x_shape, dtype=gy.dtype), np.empty(w_shape, dtype=gy.dtype), stride, padding, dilation, groups)
    except ValueError as e:
        raise ValueError(f"{shape_name}={shape}: {e}") from None
    want = conv_output_shape(x_shape, w_shape, stride=stride, padding=padding, dilation=dilation)
    if gy.shape != want:
        raise ValueError(f"gy.shape={gy.shape}, but should be {want}, the output shape of conv for {shape_name}={shape}")
    return gy, other, shape, stride, padding, dilation, groups


def check_bias(bias, allowed_shapes, dtype, *, low=False):
    """``bias`` is ``None`` or an array of one of ``allowed_shapes`` (and the layer's dtype)."""
    if bias is None:
        return None
    bias = _float_array("bias", bias, low=low)
    if bias.shape not in allowed_shapes:
        raise ValueError(f"bias.shape={bias.shape}, but should be one of {sorted(set(allowed_shapes))}")
    if bias.dtype != dtype:
        raise ValueError(f"bias.dtype={bias.dtype}, but should equal x.dtype={dtype}")
    return bias


def with_channel_bias(y, bias):
    """``y + bias[c]`` over the channel axis (``conv_grad_input``'s bias, feature
    ``grad_input_bias``); ``bias`` must be ``(C,)`` of ``y``'s dtype (ValueError naming it)."""
    bias = check_bias(bias, [(y.shape[1],)], y.dtype)
    if bias is None:
        return y
    return np.ascontiguousarray(y + bias.reshape((1, -1) + (1,) * (y.ndim - 2)), dtype=y.dtype)


def check_unshared_args(x, w, stride, padding, tiled, bias=None):
    """Validate ``local_conv`` / ``tiled_conv`` and their bias.

    Returns ``(x, w, stride, padding, out_shape, kernel, tiles, bias)``; ``tiles`` is ``None``
    for ``local_conv``.
    """
    x = _batched("x", x)
    w = _float_array("w", w)
    if w.dtype != x.dtype:
        raise ValueError(f"w.dtype={w.dtype}, but should equal x.dtype={x.dtype}")
    nd = x.ndim - 2
    if w.ndim != 2 + 2 * nd:
        layout = "(C_out, C_in, *K, *T)" if tiled else "(C_out, *O, C_in, *K)"
        raise ValueError(f"w.ndim={w.ndim}, but should be {2 + 2 * nd}: {layout}")
    stride = _int_tuple("stride", stride, nd, minimum=1)
    padding = _padding(padding, nd)
    c_in = w.shape[1] if tiled else w.shape[1 + nd]
    kernel = w.shape[2:2 + nd] if tiled else w.shape[2 + nd:]
    if c_in != x.shape[1]:
        raise ValueError(f"w.shape={w.shape} has C_in={c_in}, but x has {x.shape[1]} channels")
    for i, (s, k, (a, b)) in enumerate(zip(x.shape[2:], kernel, padding)):
        if s + a + b < k:
            raise ValueError(f"w.shape={w.shape} has kernel {k} on axis {i}, but the padded input x is only {s + a + b} long")
    out = conv_output_shape(x.shape, (w.shape[0], c_in) + tuple(kernel), stride=stride, padding=padding, dilation=(1,) * nd)
    if not tiled and tuple(w.shape[1:1 + nd]) != out[2:]:
        raise ValueError(f"w.shape={w.shape}, but its output locations should be {out[2:]} for this input, stride and padding")
    tiles = tuple(w.shape[2 + nd:]) if tiled else None
    bias = check_bias(bias, {(out[1],) + (tiles if tiled else out[2:])}, x.dtype)
    return x, w, stride, padding, out, tuple(kernel), tiles, bias


def signal_as_conv_padding(w_shape, mode: str) -> tuple[tuple[int, int], ...]:
    """The ``conv`` padding that makes a stride-1 ``conv`` produce ``correlate(..., mode)``."""
    if mode == "valid":
        return tuple((0, 0) for _ in w_shape)
    if mode == "full":
        return tuple((k - 1, k - 1) for k in w_shape)
    return tuple((k - 1 - same_offset(k), same_offset(k)) for k in w_shape)


def expected_shape(op, args, kwargs):
    """The contract's output shape for a call (docs/explanation/contract.md)."""
    a = np.shape(args[0])
    b = np.shape(args[1]) if len(args) > 1 else None
    nd = len(a) - 2
    if op in ("correlate", "convolve"):
        return signal_output_shape(a, b, kwargs["mode"])
    if op == "conv":
        return conv_output_shape(a, b, **{k: v for k, v in kwargs.items()
                                          if k not in ("bias", "x_zero_point", "w_zero_point") + QLINEAR_KEYWORDS})
    if op == "conv_grad_input":
        return tuple(kwargs["input_shape"])
    if op == "conv_grad_weight":
        return tuple(kwargs["weight_shape"])
    if op in ("max_pool", "avg_pool", "lp_pool"):
        return pool_output_shape(a, window=kwargs["window"], stride=kwargs["stride"], padding=kwargs["padding"],
                                 ceil_mode=kwargs.get("ceil_mode", False), dilation=kwargs.get("dilation"))
    if op in ("adaptive_max_pool", "adaptive_avg_pool", "max_unpool"):
        return a[:2] + tuple(kwargs["output_size"])
    kernel = b[2:2 + nd] if op == "tiled_conv" else b[2 + nd:]
    return conv_output_shape(a, (b[0], a[1]) + tuple(kernel), stride=kwargs["stride"], padding=kwargs["padding"],
                             dilation=(1,) * nd)
