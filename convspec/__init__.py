"""convspec: property-based verification and benchmarks for convolution and pooling.

``load_backend(TARGET)`` resolves a backend as the command line does; ``reference`` holds
the plain NumPy definitions; ``catalogue`` every property; ``runner`` runs them.
"""

from . import reference
from .backend import Backend, Capabilities, LoadError, load_backend

__version__ = "0.1.0"
__all__ = ["Backend", "Capabilities", "LoadError", "load_backend", "reference", "__version__"]
