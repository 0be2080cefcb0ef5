"""A quantised conv casts its requantised values to int8/uint8 without clamping: 200 wraps to -56."""
import numpy as np

import _base

convspec_capabilities = _base.QLINEAR


conv = _base.quantised(lambda acc, m, zy, dtype: (
    _base.each(acc, m, lambda a, mo: round(a * mo), dtype) + zy).astype(np.int64).astype(dtype))
