"""What every pooling adapter translates the same way: the contract's ceil-mode overhang as
extra end padding (it never counts), the elements an average counts, and the crop to the
contract's output shape.  The
reference keeps its own copy of the overhang rule on purpose: the definition shares no code
with what it judges."""
import numpy as np

from convspec._contract.functions import pool_output_shape


def overhang(x_shape, *, window, stride, padding, ceil_mode, dilation=None):
    """``(out, extra, padded)``: the contract's output shape, the ceil-mode overhang of each
    spatial axis, and the declared padding with the overhang added at the end."""
    dilation = (1,) * len(window) if dilation is None else tuple(dilation)
    out = pool_output_shape(x_shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                            dilation=dilation)
    spans = [d * (k - 1) + 1 for k, d in zip(window, dilation)]
    extra = [max(0, (o - 1) * s + k - (n + a + b)) for o, s, k, n, (a, b) in zip(out[2:], stride, spans, x_shape[2:], padding)]
    return out, extra, [(a, b + e) for (a, b), e in zip(padding, extra)]


def counted(x_shape, padding, extra, count_padding, dtype):
    """Ones where an element counts in an average, over the padded extent ``(1, 1, *(S +
    before + after + overhang))``: the input, and with ``count_padding`` its declared padding;
    never the ceil-mode overhang.  Window sums of it are the contract's divisors."""
    padded = tuple(n + a + b + e for n, (a, b), e in zip(x_shape[2:], padding, extra))
    mask = np.zeros((1, 1) + padded, dtype=dtype)
    if count_padding:
        mask[(0, 0) + tuple(slice(0, n + a + b) for n, (a, b) in zip(x_shape[2:], padding))] = 1
    else:
        mask[(0, 0) + tuple(slice(a, a + n) for n, (a, _) in zip(x_shape[2:], padding))] = 1
    return mask


def crop(y, out):
    """The first ``out`` positions of every spatial axis of ``y`` (a NumPy, PyTorch or JAX
    array) as a contiguous NumPy array."""
    return np.ascontiguousarray(np.asarray(y[(Ellipsis,) + tuple(slice(0, o) for o in out[2:])]))
