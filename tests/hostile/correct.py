"""expect: pass -- a correct backend (the control: isolation must not cost it anything)."""
from _wrong import right_conv as conv, right_correlate as correlate  # noqa: F401
