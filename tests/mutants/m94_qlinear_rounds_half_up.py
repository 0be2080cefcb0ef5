"""A quantised conv requantises with floor(v + 1/2): exact halves round up (-2.5 to -2, 2.5 to 3),
not to the even neighbour as ONNX's QLinearConv says."""
import math

import _base

convspec_capabilities = _base.QLINEAR


conv = _base.quantised(lambda acc, m, zy, dtype: _base.saturated(
    _base.each(acc, m, lambda a, mo: math.floor(a * mo + 0.5), dtype) + zy, dtype))
