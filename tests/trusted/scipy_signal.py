"""scipy.signal (direct method) as a convspec backend: a trusted implementation, the shipped
``scipy`` adapter as it is (convspec/adapters/scipy.py)."""
from convspec._adapters.scipy import conv, convolve, convspec_capabilities, correlate  # noqa: F401
