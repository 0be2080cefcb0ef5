"""Bundled backends.  Each module follows the contract of :mod:`convspec._contract.functions`."""

#: Bundled backend name -> module path (``convspec.load_backend`` resolves these names).
BUNDLED = {
    "naive": "convspec.impls.naive",
    "im2col": "convspec.impls.im2col",
    "fft": "convspec.impls.fft",
    "numba": "convspec.impls.numba_direct",
    "winograd": "convspec.impls.winograd",
    "auto": "convspec.impls.auto",
}
