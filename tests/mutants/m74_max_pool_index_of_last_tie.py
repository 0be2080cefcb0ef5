"""max_pool(return_indices=True) keeps the last of equal maxima and the last NaN (a >= comparison
while scanning the window), where the contract names the first."""
import numpy as np
from convspec._contract import reference

convspec_capabilities = {"accuracy": "direct", "ops": ["max_pool"], "features": ["max_pool_indices"]}


def max_pool(x, *, window, stride, padding, ceil_mode=False, return_indices=False):
    y = reference.max_pool(x, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode).astype(x.dtype)
    if not return_indices:
        return y
    spatial = x.shape[2:]
    positions = np.arange(int(np.prod(spatial)), dtype=np.float64).reshape((1, 1) + spatial)
    pos = reference._pool_windows(positions, window, stride, padding, ceil_mode, -1.0, np.float64)[0]
    values, real, _ = reference._pool_windows(x, window, stride, padding, ceil_mode, -np.inf, np.float64)
    where = np.broadcast_to(np.where(real > 0, pos, -1), values.shape)
    nan = np.isnan(values) & (where >= 0)
    top = np.max(np.where((where >= 0) & ~nan, values, -np.inf), axis=-1, keepdims=True)
    hit = np.where(nan.any(-1, keepdims=True), nan, (where >= 0) & (values == top))
    last = hit.shape[-1] - 1 - np.argmax(hit[..., ::-1], axis=-1)
    chosen = np.take_along_axis(where, last[..., None], -1)[..., 0]
    return y, np.where(hit.any(-1), chosen, -1).astype(np.int64)
