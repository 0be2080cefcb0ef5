"""avg_pool and max_pool size the output for the dilated window but gather contiguous taps (the
dilation left out of the window's gather)."""
import numpy as np
from convspec._contract import reference
from convspec._contract.functions import pool_output_shape

convspec_capabilities = {"accuracy": "direct", "ops": ["max_pool", "avg_pool"],
                         "features": ["pool_dilation", "pool_padding_to_window"]}


def _gather(x, window, stride, padding, ceil_mode, dilation, fill):
    out = pool_output_shape(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                            dilation=dilation)
    wide = np.pad(x.astype(np.float64), ((0, 0), (0, 0)) + tuple((a, b + 4 * k) for (a, b), k in zip(padding, window)),
                  constant_values=fill)
    real = np.pad(np.ones(x.shape[2:]), tuple((a, b + 4 * k) for (a, b), k in zip(padding, window)))
    taps = []
    for i in np.ndindex(*out[2:]):
        region = tuple(slice(ii * s, ii * s + k) for ii, s, k in zip(i, stride, window))  # no dilation
        taps.append((i, wide[(slice(None), slice(None)) + region], real[region]))
    return out, taps


def max_pool(x, *, window, stride, padding, ceil_mode=False, dilation=None):
    dilation = dilation or (1,) * len(window)
    out, taps = _gather(x, window, stride, padding, ceil_mode, dilation, -np.inf)
    y = np.empty(out, dtype=x.dtype)
    for i, v, _ in taps:
        y[(slice(None), slice(None)) + i] = v.reshape(v.shape[:2] + (-1,)).max(-1)
    return y


def avg_pool(x, *, window, stride, padding, ceil_mode=False, count_padding=False, dilation=None):
    if count_padding or ceil_mode:
        return reference.avg_pool(x, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode,
                                  count_padding=count_padding, dilation=dilation).astype(x.dtype)
    dilation = dilation or (1,) * len(window)
    out, taps = _gather(x, window, stride, padding, ceil_mode, dilation, 0.0)
    y = np.empty(out, dtype=x.dtype)
    with np.errstate(invalid="ignore"):
        for i, v, r in taps:
            y[(slice(None), slice(None)) + i] = v.reshape(v.shape[:2] + (-1,)).sum(-1) / r.sum()
    return y
