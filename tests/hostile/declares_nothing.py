"""expect: load-error -- declares no supported dtype, so every property would be skipped."""
from _wrong import conv, correlate  # noqa: F401

convspec_capabilities = {"dtypes": []}
