"""The contract and its definitions (private: reach them through :mod:`convspec`).

``functions`` -- the contract functions: names, keywords, dtypes, output shapes, argument
checks; ``reference`` -- the defining sums of chapter 9 in plain NumPy (public as
``convspec.reference``); ``accuracy`` -- error bounds from the error analysis;
``arithmetic`` -- models of low-precision kernel arithmetic; ``restrictions`` -- what a
declaration may exclude or opt into; ``memory_layouts`` -- the non-contiguous views inputs
come in; ``agreement`` -- whether one call agrees with the definition.
"""
