"""scipy.ndimage filters as max and average pooling: a trusted implementation, the shipped
``scipy-ndimage`` adapter as it is (convspec/adapters/scipy_ndimage.py)."""
from convspec._adapters.scipy_ndimage import avg_pool, convspec_capabilities, max_pool  # noqa: F401
