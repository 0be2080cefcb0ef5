"""Adaptive pooling bins end at floor((i + 1) S / O): elements are dropped when S is not divisible by O."""
import itertools
import numpy as np


def _adaptive(x, output_size, reduce):
    y = np.empty(x.shape[:2] + tuple(output_size), dtype=x.dtype)
    for i in itertools.product(*(range(o) for o in output_size)):
        region = tuple(slice((ii * s) // o, max((ii + 1) * s // o, (ii * s) // o + 1)) for ii, s, o in zip(i, x.shape[2:], output_size))
        block = x[(slice(None), slice(None)) + region]
        y[(slice(None), slice(None)) + i] = reduce(block.reshape(block.shape[:2] + (-1,)), axis=-1)
    return y


def adaptive_max_pool(x, *, output_size):
    return _adaptive(x, output_size, np.max)


def adaptive_avg_pool(x, *, output_size):
    return _adaptive(x, output_size, np.mean)
