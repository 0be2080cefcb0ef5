"""max_unpool reads the flat indices in column-major (Fortran) order, as ONNX's storage_order=1
would, where the contract's indices are C order: values land on transposed positions."""
import numpy as np

convspec_capabilities = {"accuracy": "direct", "ops": ["max_unpool"]}


def max_unpool(y, indices, *, output_size):
    out = np.zeros(y.shape[:2] + tuple(output_size), dtype=y.dtype)
    for n, c in np.ndindex(*y.shape[:2]):
        for i in np.ndindex(*y.shape[2:]):
            k = int(indices[(n, c) + i])
            if k >= 0:
                out[(n, c) + np.unravel_index(k, tuple(output_size), order="F")] = y[(n, c) + i]
    return out
