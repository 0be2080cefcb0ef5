"""A quantised conv adds y_zero_point to its int32 sums before requantising, as if it were in the
bias's units: round((acc + y_zero_point) * M) in place of round(acc * M) + y_zero_point."""
import _base

convspec_capabilities = _base.QLINEAR


conv = _base.quantised(lambda acc, m, zy, dtype: _base.saturated(
    _base.each(acc + zy, m, lambda a, mo: round(a * mo), dtype), dtype))
