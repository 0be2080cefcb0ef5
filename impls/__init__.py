"""Bundled backends.  Each module follows the contract of :mod:`convspec.contract`."""

#: Bundled backend name -> module path (``convspec.load_backend`` resolves these names).
BUNDLED = {
    "naive": "impls.naive",
    "im2col": "impls.im2col",
    "fft": "impls.fft",
    "numba": "impls.numba_direct",
    "winograd": "impls.winograd",
    "auto": "impls.auto",
}
